// The people view (being built).
import { card, empty } from "./dom.js";

export function render(container) {
  container.append(card("people", empty("This view is being built.")));
}
