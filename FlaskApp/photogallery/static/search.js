// Search as you type: suggestions from the person's own labels and words ("Cat · 12"), and on
// the gallery the results replace the grid while typing. Without JavaScript the box is a form.
"use strict";

import { el } from "./net.js";

const form = document.querySelector("form.search");
const input = form?.querySelector("input[name=q]");
const WAIT = 250; // ms after the last key press

function setup() {
  const list = el("ul", { class: "suggest", id: "suggestions", role: "listbox", "aria-label": "Suggestions" });
  list.hidden = true;
  form.append(list);
  Object.entries({ role: "combobox", "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": "suggestions", autocomplete: "off" })
    .forEach(([name, value]) => input.setAttribute(name, value));
  let timer = 0;
  let active = -1;
  let asked = 0;

  const options = () => [...list.querySelectorAll("[role=option]")];
  const close = () => { list.hidden = true; input.setAttribute("aria-expanded", "false"); input.removeAttribute("aria-activedescendant"); active = -1; };
  const pick = (term) => { input.value = term; close(); form.requestSubmit(); };
  const highlight = (n) => {
    const all = options();
    active = (n + all.length) % all.length;
    all.forEach((o, i) => o.setAttribute("aria-selected", String(i === active)));
    input.setAttribute("aria-activedescendant", all[active].id);
  };

  async function suggest() {
    const typed = input.value;
    const ticket = ++asked;
    if (!typed.trim()) { close(); liveResults("", ticket); return; }
    const answer = await fetch(`${form.dataset.suggest}?${new URLSearchParams({ q: typed })}`, { headers: { Accept: "application/json" } }).catch(() => null);
    if (!answer?.ok || ticket !== asked) return;
    const { suggestions } = await answer.json();
    const words = typed.trim().split(/\s+/).slice(0, -1).join(" ");
    list.replaceChildren(...suggestions.map((s, i) => {
      const option = el("li", { role: "option", id: `suggestion-${i}`, "aria-selected": "false", "data-term": `${words} ${s.label}`.trim() },
        el("span", { text: s.label }), el("span", { class: "muted", text: ` · ${s.count}` }));
      option.addEventListener("mousedown", (e) => { e.preventDefault(); pick(option.dataset.term); });
      return option;
    }));
    list.hidden = !suggestions.length;
    input.setAttribute("aria-expanded", String(!list.hidden));
    active = -1;
    // While typing, the grid shows what the word is becoming: "ca" shows the photos of Cat.
    const last = typed.trim().split(/\s+/).pop().toLowerCase();
    const best = suggestions.find((s) => s.term === last) || suggestions[0];
    liveResults(best ? `${words} ${best.term}` : typed, ticket);
  }

  // On the gallery, the grid shows what is typed so far (the URL follows, for Back and sharing).
  async function liveResults(typed, ticket) {
    const grid = document.querySelector("main .page-title");
    if (!grid) return;
    const url = `${form.action}?${new URLSearchParams({ q: typed.trim() })}`;
    const answer = await fetch(url).catch(() => null);
    if (!answer?.ok || ticket !== asked) return;
    const page = new DOMParser().parseFromString(await answer.text(), "text/html");
    const fresh = page.querySelector("main");
    const main = document.querySelector("main");
    for (const part of main.querySelectorAll(":scope > :not(#uploader):not(.flash)")) part.remove();
    main.append(...[...fresh.children].filter((n) => n.id !== "uploader" && n.tagName !== "SCRIPT" && !n.classList.contains("flash")).map((n) => document.adoptNode(n)));
    document.title = page.title;
    history.replaceState(null, "", url);
    document.dispatchEvent(new CustomEvent("gallery:replaced"));
  }

  input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(suggest, WAIT); });
  input.addEventListener("keydown", (e) => {
    if (list.hidden) return;
    if (e.key === "ArrowDown") { e.preventDefault(); highlight(active + 1); }
    else if (e.key === "ArrowUp") { e.preventDefault(); highlight(active - 1); }
    else if (e.key === "Escape") { close(); }
    else if (e.key === "Enter" && active >= 0) { e.preventDefault(); pick(options()[active].dataset.term); }
  });
  input.addEventListener("blur", () => setTimeout(close, 100));
}

if (input && form.dataset.suggest) setup();
