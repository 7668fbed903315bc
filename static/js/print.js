// "Print" links (data-print) open the print dialog; a static file, as the CSP allows no inline script.
document.addEventListener("click", (event) => {
  const link = event.target.closest("[data-print]");
  if (link) {
    event.preventDefault();
    window.print();
  }
});
