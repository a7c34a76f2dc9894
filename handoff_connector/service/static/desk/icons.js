// The desk's icons: fixed SVG markup of our own (never data), drawn by dom.js icon().

export const ICONS = {
  send: '<svg viewBox="0 0 20 20" aria-hidden="true"><path d="M3.4 2.6a.75.75 0 0 0-1 .9l1.9 5.8h6.2a.75.75 0 0 1 0 1.5H4.3l-1.9 5.8a.75.75 0 0 0 1 .9l14-7a.75.75 0 0 0 0-1.3z"/></svg>',
  bookmark: '<svg viewBox="0 0 20 20" aria-hidden="true"><path d="M5 3.5A1.5 1.5 0 0 1 6.5 2h7A1.5 1.5 0 0 1 15 3.5v14a.5.5 0 0 1-.8.4L10 15l-4.2 2.9a.5.5 0 0 1-.8-.4z"/></svg>',
  transfer: '<svg viewBox="0 0 20 20" aria-hidden="true"><path d="M13.2 2.7a.75.75 0 0 1 1.06 0l3 3a.75.75 0 0 1 0 1.06l-3 3a.75.75 0 1 1-1.06-1.06l1.72-1.72H4.75a.75.75 0 0 1 0-1.5h10.17L13.2 3.76a.75.75 0 0 1 0-1.06zm-6.4 7a.75.75 0 0 1 0 1.06L5.08 12.5h10.17a.75.75 0 0 1 0 1.5H5.08l1.72 1.72a.75.75 0 1 1-1.06 1.06l-3-3a.75.75 0 0 1 0-1.06l3-3a.75.75 0 0 1 1.06 0z"/></svg>',
  check: '<svg viewBox="0 0 20 20" aria-hidden="true"><path d="M16.7 5.3a1 1 0 0 1 0 1.4l-8 8a1 1 0 0 1-1.4 0l-4-4a1 1 0 1 1 1.4-1.4L8 12.58l7.3-7.3a1 1 0 0 1 1.4 0z"/></svg>',
  inbox: '<svg viewBox="0 0 48 48" aria-hidden="true"><path d="M10 8h28l6 18v12a4 4 0 0 1-4 4H8a4 4 0 0 1-4-4V26zm2.9 4L8.2 24H17a2 2 0 0 1 2 2 5 5 0 0 0 10 0 2 2 0 0 1 2-2h8.8l-4.7-12z"/></svg>',
  chat: '<svg viewBox="0 0 48 48" aria-hidden="true"><path d="M8 10a4 4 0 0 1 4-4h24a4 4 0 0 1 4 4v18a4 4 0 0 1-4 4H20l-8 7v-7a4 4 0 0 1-4-4z"/></svg>',
  lock: '<svg viewBox="0 0 20 20" aria-hidden="true"><path d="M10 2a4 4 0 0 0-4 4v2H5a1 1 0 0 0-1 1v8a1 1 0 0 0 1 1h10a1 1 0 0 0 1-1V9a1 1 0 0 0-1-1h-1V6a4 4 0 0 0-4-4zm2.5 6h-5V6a2.5 2.5 0 0 1 5 0z"/></svg>',
  star: '<svg viewBox="0 0 20 20" aria-hidden="true"><path d="M10 1.8l2.5 5.1 5.6.8-4 4 .9 5.6-5-2.7-5 2.7.9-5.6-4-4 5.6-.8z"/></svg>',
  phone: '<svg viewBox="0 0 20 20" aria-hidden="true"><path d="M5.6 2.3a1.2 1.2 0 0 1 1.37.53l1.55 2.6a1.2 1.2 0 0 1-.22 1.5l-1.2 1.08a9.6 9.6 0 0 0 4.9 4.9l1.08-1.2a1.2 1.2 0 0 1 1.5-.22l2.6 1.55a1.2 1.2 0 0 1 .53 1.37l-.5 1.8A1.9 1.9 0 0 1 15.4 17.6C8.3 17.2 2.8 11.7 2.4 4.6a1.9 1.9 0 0 1 1.4-1.8z"/></svg>',
  mail: '<svg viewBox="0 0 20 20" aria-hidden="true"><path d="M3.5 4h13A1.5 1.5 0 0 1 18 5.5v.35l-8 4.8-8-4.8V5.5A1.5 1.5 0 0 1 3.5 4zM2 7.6v6.9A1.5 1.5 0 0 0 3.5 16h13a1.5 1.5 0 0 0 1.5-1.5V7.6l-7.6 4.56a.75.75 0 0 1-.8 0z"/></svg>',
  people: '<svg viewBox="0 0 20 20" aria-hidden="true"><path d="M7 9a3 3 0 1 0 0-6 3 3 0 0 0 0 6zm7 0a2.5 2.5 0 1 0 0-5 2.5 2.5 0 0 0 0 5zM1.5 16c0-2.9 2.5-5 5.5-5s5.5 2.1 5.5 5a1 1 0 0 1-1 1h-9a1 1 0 0 1-1-1zm12.3 1h3.7a1 1 0 0 0 1-1c0-2.5-2-4.4-4.5-4.4-.8 0-1.5.2-2.1.5a6.3 6.3 0 0 1 1.9 4.9z"/></svg>',
  down: '<svg viewBox="0 0 20 20" aria-hidden="true"><path d="M10 14.5a1 1 0 0 1-.7-.3l-5-5a1 1 0 1 1 1.4-1.4l4.3 4.29 4.3-4.3a1 1 0 1 1 1.4 1.42l-5 5a1 1 0 0 1-.7.29z"/></svg>',
};
