// The sign-in form, with its wait after too many attempts.

import { $ } from "./dom.js";
import { S, STORE_KEYS, store } from "./state.js";
import { api } from "./api.js";
import { unlockAudio } from "./notify.js";
import { startSession } from "./session.js";

let loginLockTimer = null;

function lockLogin(seconds) {
  const button = $("#login-submit");
  clearInterval(loginLockTimer);
  let left = Math.max(1, Math.ceil(seconds));
  button.disabled = true;
  button.textContent = `Try again in ${left} s`;
  loginLockTimer = setInterval(() => {
    left -= 1;
    if (left <= 0) {
      clearInterval(loginLockTimer);
      button.disabled = false;
      button.textContent = "Sign in";
    } else {
      button.textContent = `Try again in ${left} s`;
    }
  }, 1000);
}

export async function onLoginSubmit(event) {
  event.preventDefault();
  unlockAudio();
  const button = $("#login-submit");
  if (button.disabled) return;
  const login = $("#login-user").value.trim();
  const password = $("#login-password").value;
  const error = $("#login-error");
  if (!login || !password) {
    error.textContent = "Enter your login and your password.";
    error.classList.remove("is-info");
    error.hidden = false;
    (login ? $("#login-password") : $("#login-user")).focus();
    return;
  }
  button.disabled = true;
  button.textContent = "Signing in…";
  let locked = false;
  try {
    const data = await api("POST", "/api/v1/login", { login, password });
    S.token = data.token;
    store.set(STORE_KEYS.token, data.token);
    store.set(STORE_KEYS.presence, "online");
    $("#login-password").value = "";
    error.hidden = true;
    await startSession(true);
  } catch (err) {
    error.textContent = err.message;
    error.classList.remove("is-info");
    error.hidden = false;
    if (err.status === 429 && err.retryAfter) {
      locked = true;
      lockLogin(err.retryAfter);
    }
    $("#login-password").select();
  } finally {
    if (!locked) {
      button.disabled = false;
      button.textContent = "Sign in";
    }
  }
}
