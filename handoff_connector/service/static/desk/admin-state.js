// The admin page's state and calls: the desk's session of this tab, the lists, the status line.

import { ApiError, request } from "../common/http.js";
import { TOKEN_KEY, store } from "../common/session.js";

export const A = {
  token: store.get(TOKEN_KEY), me: null, agents: [], queues: [],
  reload: async () => {},  // set by admin.js: the lists loaded and drawn again
};

export async function call(method, path, body) {
  const { response, data } = await request(method, path, A.token, body);
  if (!response.ok) {
    throw new ApiError((data && data.error) || `The server answered ${response.status}.`, response.status);
  }
  return data;
}

export function say(text, isError) {
  const box = document.querySelector("#admin-status");
  box.textContent = text || "";
  box.classList.toggle("is-error", Boolean(isError));
}
