// The desk's session in this tab's sessionStorage, which the insights pages share.

export const TOKEN_KEY = "desk.token";

// sessionStorage throws when it is full or blocked (private modes): the desk then works without it.
export const store = {
  get(key) { try { return sessionStorage.getItem(key); } catch (e) { return null; } },
  set(key, value) { try { sessionStorage.setItem(key, value); } catch (e) { /* storage full or blocked */ } },
  remove(key) { try { sessionStorage.removeItem(key); } catch (e) { /* blocked */ } },
};
