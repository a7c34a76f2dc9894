// The bot view (being built).
import { card, empty } from "./dom.js";

export function render(container) {
  container.append(card("bot", empty("This view is being built.")));
}
