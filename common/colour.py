"""Brand colours: parsing, shades and WCAG contrast (pure; no Django).

A brand colour is used as the background of buttons and selected answers with white text,
so it must reach the WCAG AA contrast of 4.5:1 against white (WCAG 2.2, 1.4.3)."""

import re

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
MIN_CONTRAST_WITH_WHITE = 4.5


def rgb(colour: str) -> tuple[int, int, int]:
    if not HEX_COLOUR.match(colour):
        raise ValueError(f"{colour!r} is not a colour like #1f5fbf.")
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _hex(red: float, green: float, blue: float) -> str:
    return "#" + "".join(f"{round(max(0, min(255, part))):02x}" for part in (red, green, blue))


def relative_luminance(colour: str) -> float:
    """WCAG 2 relative luminance of an sRGB colour, 0 (black) to 1 (white)."""

    def linear(channel: int) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(channel) for channel in rgb(colour))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: str, second: str) -> float:
    """WCAG contrast ratio (1 to 21) between two colours."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def mix(colour: str, other: str, share: float) -> str:
    """`colour` with `share` (0–1) of `other` mixed in, per sRGB channel."""
    return _hex(
        *(
            (1 - share) * mine + share * theirs
            for mine, theirs in zip(rgb(colour), rgb(other), strict=True)
        )
    )


def shades(colour: str) -> dict[str, str]:
    """The page's brand variables: the colour, a darker hover shade and a pale wash."""
    return {
        "brand": colour.lower(),
        "brand-dark": mix(colour, "#000000", 0.25),
        "brand-wash": mix(colour, "#ffffff", 0.9),
    }
