/* A conversation link was followed: the chat's session goes where the chat keeps it, then the chat opens. */
(() => {
  "use strict";
  const session = document.getElementById("chat-session").dataset.session;
  try {
    localStorage.setItem("helpline.webchat.session", session);
  } catch (error) {
    return;  // storage is switched off: the link below opens a new chat
  }
  location.replace("/chat");
})();
