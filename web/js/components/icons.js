// Small inline SVG icons (drawn in currentColor; no emoji font needed). The Content-Security-Policy allows
// them: they are DOM nodes, not style attributes or inline scripts.
const SVG = "http://www.w3.org/2000/svg";

/** A push pin, hidden from assistive technology (the button or label next to it says what it means). */
export function pinIcon() {
  const svg = document.createElementNS(SVG, "svg");
  for (const [k, v] of Object.entries({ viewBox: "0 0 16 16", width: "14", height: "14", "aria-hidden": "true", focusable: "false", class: "icon" })) {
    svg.setAttribute(k, v);
  }
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", "M5 1h6v1.5l-1 1V7l2.5 2.5V11H8.75v4h-1.5v-4H3.5V9.5L6 7V3.5l-1-1z");
  path.setAttribute("fill", "currentColor");
  svg.append(path);
  return svg;
}
