// Calls from the lower modules (API, data) up to the ones that import them (renderers, the session),
// wired once by main.js before anything runs: every import goes one way, so load order never matters.

const unwired = (name) => () => { throw new Error(`desk: hook ${name} is not wired`); };

export const hooks = {
  sessionEnded: unwired("sessionEnded"),
  openConversation: unwired("openConversation"),
  scheduleRender: unwired("scheduleRender"),
  renderLists: unwired("renderLists"),
  renderFilterOptions: unwired("renderFilterOptions"),
  updateTitle: unwired("updateTitle"),
  renderTabs: unwired("renderTabs"),
  renderView: unwired("renderView"),
  refreshView: unwired("refreshView"),
  renderTranscriptFor: unwired("renderTranscriptFor"),
  renderTeam: unwired("renderTeam"),
};
