// The public API, with the desk's session (the desk keeps its token in this tab's sessionStorage).

import { ApiError, request } from "../common/http.js";
import { TOKEN_KEY, store } from "../common/session.js";

export function token() {
  return store.get(TOKEN_KEY);
}

// Back to the desk's sign-in: the session ended, or there never was one in this tab.
export function signIn() {
  window.location.assign("/desk");
}

function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== null && value !== undefined && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? "?" + text : "";
}

// A path with its query, for links (exports) and for api().
export function url(path, params) {
  return path + query(params);
}

export async function api(method, path, params, body) {
  const { response, data } = await request(method, url(path, params), token(), body);
  if (response.status === 401) {
    signIn();
    throw new ApiError("Your session has ended.", 401);
  }
  if (!response.ok) {
    throw new ApiError((data && data.error) || `The server answered ${response.status}.`, response.status);
  }
  return data;
}

export const get = (path, params) => api("GET", path, params);

// A file the API makes (CSV, transcript): fetched with the session, then saved by the browser.
export async function download(path, params, filename) {
  const response = await fetch(url(path, params), { headers: { Authorization: "Bearer " + token() }, cache: "no-store" });
  if (response.status === 401) { signIn(); return; }
  if (!response.ok) {
    let message = `The server answered ${response.status}.`;
    try { message = (await response.json()).error || message; } catch (error) { /* not JSON */ }
    throw new ApiError(message, response.status);
  }
  const blob = await response.blob();
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}
