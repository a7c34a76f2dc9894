// One JSON request to the public API with the session's token, for the desk and the insights pages.

export class ApiError extends Error {
  constructor(message, status, retryAfter) {
    super(message);
    this.status = status;
    this.retryAfter = retryAfter || 0;
    // Set once the error was dealt with (the session ended and the page went back to sign in).
    this.handled = false;
  }
}

// An error already dealt with: its caller shows nothing.
export function handledError(message, status) {
  const error = new ApiError(message, status);
  error.handled = true;
  return error;
}

// The response and its JSON body (null when there is none or it is not JSON); the caller reads the status.
// A request cancelled through `signal` throws an ApiError already marked handled (nobody is told).
export async function request(method, url, token, body, signal) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = "Bearer " + token;
  let response;
  try {
    response = await fetch(url, {
      method, headers, cache: "no-store", body: body === undefined ? undefined : JSON.stringify(body), signal,
    });
  } catch (error) {
    if (signal && signal.aborted) throw handledError("The request was cancelled.", 0);
    throw new ApiError("Cannot reach the desk server. Check your connection and try again.", 0);
  }
  let data = null;
  const raw = await response.text();
  if (raw) {
    try { data = JSON.parse(raw); } catch (error) { data = null; }
  }
  return { response, data };
}
