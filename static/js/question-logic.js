// Question logic on the respondent page: a question with data-show-if is shown only when
// the earlier answer it names meets its condition. Progressive enhancement only: the server
// ignores answers to hidden questions whatever this script does (surveys/logic.py).
(function () {
  "use strict";
  var form = document.querySelector("form.survey-form");
  if (!form) { return; }
  var conditional = Array.prototype.slice.call(form.querySelectorAll("fieldset[data-show-if]"));
  if (!conditional.length) { return; }

  function answerOf(code) {
    var fieldset = document.getElementById("question-" + code);
    if (!fieldset || fieldset.hidden) { return null; }
    var inputs = fieldset.querySelectorAll("input, textarea, select");
    var values = [];
    var multi = false;
    Array.prototype.forEach.call(inputs, function (input) {
      if (input.type === "checkbox") {
        multi = true;
        if (input.checked) { values.push(input.value); }
      } else if (input.type === "radio") {
        if (input.checked) { values.push(input.value); }
      } else if (input.value.trim() !== "") {
        values.push(input.value.trim());
      }
    });
    if (!values.length) { return null; }
    return multi ? values : values[0];
  }

  function met(operator, targets, answer) {
    if (answer === null) { return false; }
    if (operator === "answered") { return true; }
    if (Array.isArray(answer)) {
      var hit = answer.some(function (value) { return targets.indexOf(value) !== -1; });
      return operator === "ne" ? !hit : hit;
    }
    if (!targets.length) { return false; }
    var number = Number(answer);
    var numeric = answer !== "" && !isNaN(number) && targets.every(function (t) { return !isNaN(Number(t)); });
    var left = numeric ? number : answer;
    var list = targets.map(function (t) { return numeric ? Number(t) : t; });
    switch (operator) {
      case "lte": return numeric && left <= list[0];
      case "gte": return numeric && left >= list[0];
      case "eq": return left === list[0];
      case "ne": return left !== list[0];
      case "in": return list.indexOf(left) !== -1;
      default: return false;
    }
  }

  function update() {
    // Document order is display order, and a condition names an earlier question only.
    conditional.forEach(function (fieldset) {
      var targets = (fieldset.getAttribute("data-show-if-value") || "").split(",")
        .map(function (part) { return part.trim(); })
        .filter(function (part) { return part !== ""; });
      var shown = met(
        fieldset.getAttribute("data-show-if-operator"),
        targets,
        answerOf(fieldset.getAttribute("data-show-if"))
      );
      fieldset.hidden = !shown;
      Array.prototype.forEach.call(fieldset.querySelectorAll("input, textarea, select"), function (input) {
        input.disabled = !shown;
      });
    });
  }

  form.addEventListener("change", update);
  form.addEventListener("input", update);
  update();
})();
