// The preview's behaviour: in-place navigation, tabs, thumbnails and live reload.
// Pages work without it (plain links and forms); this only keeps the page in place.
(() => {
  "use strict";
  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];
  let chosenTab = null;
  let toastTimer = null;

  // Tabs: the page says which tab opens first; a tab the designer picked survives a refresh.
  function showTab(name) {
    const nav = $(".tabs");
    if (!nav) return;
    const button = $(`[data-tab="${name}"]:not([disabled])`, nav) || $("[data-tab]:not([disabled])", nav);
    if (!button) return;
    for (const tab of $$("[data-tab]", nav)) tab.setAttribute("aria-selected", String(tab === button));
    for (const panel of $$("[data-panel]")) panel.hidden = panel.dataset.panel !== button.dataset.tab;
  }

  function restoreTab() {
    const nav = $(".tabs");
    if (!nav) return;
    const wanted = chosenTab && $(`[data-tab="${chosenTab}"]:not([disabled])`, nav) ? chosenTab : nav.dataset.active;
    showTab(wanted);
  }

  // Thumbnails are 600 px emails scaled to their card's width.
  function sizeThumbs() {
    for (const thumb of $$(".thumb")) {
      const width = thumb.clientWidth;
      if (width) thumb.style.setProperty("--scale", (width / 600).toFixed(4));
    }
  }

  function toast(message) {
    const box = $("#toast");
    if (!box) return;
    box.textContent = message;
    box.classList.add("show");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => box.classList.remove("show"), 2600);
  }

  // Remember how far each email frame was scrolled, so a live reload keeps the designer's place.
  function frameScrolls() {
    const scrolls = {};
    for (const frame of $$("iframe.frame[id]")) {
      try { scrolls[frame.id] = frame.contentWindow.scrollY; } catch (error) { /* not loaded yet */ }
    }
    return scrolls;
  }

  function restoreScrolls(scrolls) {
    for (const [id, y] of Object.entries(scrolls)) {
      const frame = document.getElementById(id);
      if (frame && y) frame.addEventListener("load", () => frame.contentWindow.scrollTo(0, y), { once: true });
    }
  }

  // Fetch a page and swap its <main> in: the top bar, live-reload connection and scroll position stay.
  async function swap(url, { push = true, init = undefined, keepScroll = false } = {}) {
    const scrolls = keepScroll ? frameScrolls() : {};
    let response;
    try {
      response = await fetch(url, init);
    } catch (error) {
      toast("The preview server is not answering.");
      return;
    }
    const doc = new DOMParser().parseFromString(await response.text(), "text/html");
    const next = doc.getElementById("main");
    const current = document.getElementById("main");
    if (!next || !current) {
      location.href = response.url;
      return;
    }
    current.replaceWith(next);
    document.title = doc.title;
    if (push && response.url !== location.href) history.pushState({}, "", response.url);
    // A new view starts at its top (where problems are shown); a live reload keeps the place.
    if (!keepScroll) window.scrollTo(0, 0);
    restoreScrolls(scrolls);
    restoreTab();
    applyScheme();
    sizeThumbs();
    document.dispatchEvent(new CustomEvent("preview:updated"));
  }

  // Replace only what finished compiling, so the thumbnails already shown do not reload.
  async function fillPending() {
    let doc;
    try {
      const response = await fetch(location.href);
      doc = new DOMParser().parseFromString(await response.text(), "text/html");
    } catch (error) {
      return;
    }
    for (const row of $$("[data-template-row]")) {
      if (!$("[data-pending]", row)) continue;
      const next = $(`[data-template-row="${CSS.escape(row.dataset.templateRow)}"]`, doc);
      if (!next) continue;
      if (!$("[data-pending]", next)) {
        row.replaceWith(next);
        continue;
      }
      for (const card of $$("[data-pending]", row)) {
        const key = `[data-template="${CSS.escape(card.dataset.template)}"][data-profile="${CSS.escape(card.dataset.profile)}"]`;
        const done = $(key, next);
        if (done && !done.hasAttribute("data-pending")) card.replaceWith(done);
      }
    }
    const stats = $(".stats");
    const nextStats = $(".stats", doc);
    if (stats && nextStats) stats.replaceWith(nextStats);
    const banner = $(".compiling");
    const nextBanner = $(".compiling", doc);
    if (banner && nextBanner) banner.replaceWith(nextBanner);
    else if (banner) banner.remove();
    sizeThumbs();
  }

  document.addEventListener("change", (event) => {
    const target = event.target;
    if (target.matches(".pickers select")) {
      const query = new URLSearchParams(new FormData(target.form));
      swap(`/email?${query}`);
    } else if (target.matches("[data-upload]") && target.files.length) {
      const area = $(target.dataset.upload);
      target.files[0].text().then((text) => { area.value = text; area.focus(); });
    }
  });

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.matches(".profile-form")) return;
    event.preventDefault();
    chosenTab = null;
    swap(form.action, { init: { method: "POST", body: new URLSearchParams(new FormData(form)) } });
  });

  // Dark mode: the frames ask their emails for prefers-color-scheme: dark; kept across pages.
  function applyScheme() {
    const dark = localStorage.getItem("email-scheme") === "dark";
    document.documentElement.dataset.emailScheme = dark ? "dark" : "light";
    const toggle = $("#dark-toggle");
    if (toggle) toggle.setAttribute("aria-pressed", String(dark));
    for (const frame of $$("iframe.frame")) {
      const url = new URL(frame.getAttribute("src"), location.href);
      if (dark === (url.searchParams.get("scheme") === "dark")) continue;
      if (dark) url.searchParams.set("scheme", "dark"); else url.searchParams.delete("scheme");
      frame.setAttribute("src", url.pathname + url.search);
    }
  }
  applyScheme();

  document.addEventListener("click", (event) => {
    if (event.target.closest("#dark-toggle")) {
      const dark = localStorage.getItem("email-scheme") !== "dark";
      localStorage.setItem("email-scheme", dark ? "dark" : "light");
      applyScheme();
      return;
    }
    const tab = event.target.closest(".tabs [data-tab]");
    if (tab && !tab.disabled) {
      chosenTab = tab.dataset.tab;
      showTab(chosenTab);
      return;
    }
    const copy = event.target.closest("[data-copy]");
    if (copy) {
      navigator.clipboard.writeText($(copy.dataset.copy).textContent).then(
        () => toast("HTML copied."), () => toast("The browser did not allow copying."));
    }
  });

  window.addEventListener("popstate", () => swap(location.href, { push: false }));
  window.addEventListener("resize", sizeThumbs);

  // Live reload: the server names the files that changed; the page re-renders in place.
  function connect() {
    const live = $("#live");
    if (!live) return;  // a static gallery: no server to listen to
    const label = $(".live-label", live);
    const source = new EventSource("/events");
    let seenBefore = false;
    source.addEventListener("hello", () => {
      live.dataset.state = "live";
      label.textContent = "Live";
      // A reconnect may have missed changes (or the server restarted): refresh once.
      if (seenBefore) swap(location.href, { push: false, keepScroll: true });
      else onCompiled();  // templates finished between the page load and this connection
      seenBefore = true;
    });
    source.addEventListener("change", async (event) => {
      const { files } = JSON.parse(event.data);
      await swap(location.href, { push: false, keepScroll: true });
      toast(`Updated: ${files.join(", ")}`);
    });
    // The background compiler finished a template: fill in the gallery's placeholders.
    // One refresh at a time; notices that come during it are folded into one more.
    let filling = false;
    let again = false;
    async function onCompiled() {
      if (!$("[data-pending]")) return;
      if (filling) { again = true; return; }
      filling = true;
      do {
        again = false;
        await fillPending();
      } while (again && $("[data-pending]"));
      filling = false;
    }
    source.addEventListener("compiled", onCompiled);
    source.addEventListener("error", () => {
      live.dataset.state = "offline";
      label.textContent = "Reconnecting";
    });
  }

  restoreTab();
  sizeThumbs();
  connect();
})();
