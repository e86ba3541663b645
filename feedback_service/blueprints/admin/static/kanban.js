// The issue board's drag and drop and arrow keys. Without this file every card still has a
// status menu that posts a form; this file sends that same form with fetch, so the server's
// checks (role, CSRF, status) stay the only ones, and moves the card only once it agreed.
"use strict";

(() => {
  const board = document.querySelector(".kanban");
  if (!board) return;
  const columns = () => Array.from(board.querySelectorAll("[data-status]"));
  const columnOf = (status) => board.querySelector(`[data-status="${status}"]`);
  const announce = (text) => {
    const region = document.querySelector("[data-kanban-announce]");
    if (region) region.textContent = text;
  };
  // Only cards with a status form can move: viewers' cards have none.
  const movableCard = (node) => {
    const card = node instanceof Element ? node.closest(".kanban-card") : null;
    return card && card.querySelector("form") ? card : null;
  };

  // Where the server would list the card: most feedback first, then oldest id.
  function place(card, column) {
    const list = column.querySelector("[data-cards]");
    const count = Number(card.dataset.feedbackCount);
    const id = Number(card.dataset.issueId);
    const next = Array.from(list.children).find((other) => {
      if (other === card) return false;
      const otherCount = Number(other.dataset.feedbackCount);
      return otherCount < count || (otherCount === count && Number(other.dataset.issueId) > id);
    });
    list.insertBefore(card, next || null);
  }

  function adjustCount(column, delta) {
    const counter = column.querySelector("[data-count]");
    if (counter) counter.textContent = String(Number(counter.textContent) + delta);
  }

  async function move(card, status) {
    const from = card.closest("[data-status]");
    // One move per card at a time: a second arrow press waits for the first answer.
    if (!from || from.dataset.status === status || card.dataset.moving) return;
    card.dataset.moving = "true";
    const form = card.querySelector("form");
    const body = new FormData(form); // carries the CSRF token
    body.set("status", status);
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body,
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (!response.ok) throw new Error(`status ${response.status}`);
      const result = await response.json();
      const to = columnOf(result.status);
      // Moving a node drops its focus; a keyboard user keeps working on the same card.
      const hadFocus = document.activeElement === card;
      place(card, to);
      adjustCount(from, -1);
      adjustCount(to, 1);
      form.querySelector("select[name=status]").value = result.status;
      if (hadFocus) card.focus();
      const label = to.querySelector("h2 .tag");
      announce(`${card.dataset.name} moved to ${label ? label.textContent : result.status}.`);
    } catch {
      // Signed out, refused, or another tab changed the board: show the server's truth.
      window.location.reload();
    } finally {
      delete card.dataset.moving;
    }
  }

  // The status menu and its Move button take the same path, so focus stays on the card.
  board.addEventListener("submit", (event) => {
    const card = movableCard(event.target);
    if (!card) return;
    event.preventDefault();
    move(card, event.target.querySelector("select[name=status]").value);
  });

  board.addEventListener("dragstart", (event) => {
    const card = movableCard(event.target);
    if (!card) return;
    event.dataTransfer.setData("text/plain", card.dataset.issueId);
    event.dataTransfer.effectAllowed = "move";
    card.setAttribute("aria-grabbed", "true");
  });
  board.addEventListener("dragend", (event) => {
    const card = movableCard(event.target);
    if (card) card.removeAttribute("aria-grabbed");
    columns().forEach((column) => column.classList.remove("drop-target"));
  });
  board.addEventListener("dragover", (event) => {
    const column = event.target instanceof Element && event.target.closest("[data-status]");
    if (!column || !board.querySelector('[aria-grabbed="true"]')) return;
    event.preventDefault(); // allows the drop here
    event.dataTransfer.dropEffect = "move";
    columns().forEach((other) => other.classList.toggle("drop-target", other === column));
  });
  board.addEventListener("drop", (event) => {
    const column = event.target instanceof Element && event.target.closest("[data-status]");
    const card = board.querySelector('[aria-grabbed="true"]');
    if (!column || !card) return;
    event.preventDefault();
    column.classList.remove("drop-target");
    move(card, column.dataset.status);
  });

  board.addEventListener("keydown", (event) => {
    if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
    // Arrows inside the card's menu change the menu, not the card.
    if (!event.target.matches(".kanban-card") || !movableCard(event.target)) return;
    const order = columns().map((column) => column.dataset.status);
    const here = order.indexOf(event.target.closest("[data-status]").dataset.status);
    const there = order[here + (event.key === "ArrowLeft" ? -1 : 1)];
    if (!there) return;
    event.preventDefault();
    move(event.target, there);
  });
})();
