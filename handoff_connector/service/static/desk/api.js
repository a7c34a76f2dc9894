// The desk's REST calls: the session's token, the server's clock, and a 401 that ends the session.
// Signing out cancels what is still on its way, so no call reaches the server after its token is gone.

import { ApiError, handledError, request } from "../common/http.js";
import { S } from "./state.js";
import { hooks } from "./hooks.js";

function noteServerTime(response) {
  const header = response.headers.get("Date");
  if (!header) return;
  const server = Date.parse(header);
  if (isNaN(server)) return;
  const offset = server / 1000 - Date.now() / 1000;
  S.serverOffset = Math.abs(offset) > 2 ? offset : 0;
}

const inFlight = new Set();

// Cancels every call on its way (their callers get a handled error and show nothing).
export function cancelRequests() {
  for (const controller of inFlight) controller.abort();
  inFlight.clear();
}

export async function api(method, path, body) {
  if (!S.token && path !== "/api/v1/login") throw handledError("You have signed out.", 401);
  const controller = new AbortController();
  inFlight.add(controller);
  let answer;
  try {
    answer = await request(method, path, S.token, body, controller.signal);
  } finally {
    inFlight.delete(controller);
  }
  const { response, data } = answer;
  noteServerTime(response);
  if (!response.ok) {
    const message = (data && data.error) || `The server answered ${response.status} ${response.statusText || ""}`.trim() + ".";
    const error = new ApiError(message, response.status, Number(response.headers.get("Retry-After")) || 0);
    if (response.status === 401 && S.token && path !== "/api/v1/login") {
      error.handled = true;
      hooks.sessionEnded();
    }
    throw error;
  }
  return data;
}
