// The live view (being built).
import { card, empty } from "./dom.js";

export function render(container) {
  container.append(card("live", empty("This view is being built.")));
}
