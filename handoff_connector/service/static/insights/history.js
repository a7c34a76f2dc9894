// The history view (being built).
import { card, empty } from "./dom.js";

export function render(container) {
  container.append(card("history", empty("This view is being built.")));
}
