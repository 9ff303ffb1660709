// Others' cursors in the notes editor: a caret and a name flag per person, in their colour. The Quill module
// API y-quill expects (createCursor, moveCursor, removeCursor). Written here rather than quill-cursors,
// whose bundle injects a <style> element that the Content Security Policy (style-src 'self') refuses.
export default class Cursors {
  constructor(quill) {
    this.quill = quill;
    this.cursors = new Map();
    this.layer = document.createElement("div");
    this.layer.className = "notes-cursors";
    this.layer.setAttribute("aria-hidden", "true"); // the "who is here" list says it for screen readers
    quill.container.appendChild(this.layer);
    quill.on("editor-change", () => this.redraw());
    window.addEventListener("resize", () => this.redraw());
  }

  createCursor(id, name, color) {
    let cursor = this.cursors.get(id);
    if (!cursor) {
      const caret = document.createElement("span");
      caret.className = "notes-caret";
      const flag = document.createElement("span");
      flag.className = "notes-flag";
      flag.dir = "auto";
      caret.append(flag);
      this.layer.append(caret);
      cursor = { caret, flag, range: null };
      this.cursors.set(id, cursor);
    }
    cursor.flag.textContent = name;
    cursor.caret.style.borderColor = color;
    cursor.flag.style.backgroundColor = color;
    return cursor;
  }

  moveCursor(id, range) {
    const cursor = this.cursors.get(id);
    if (!cursor) return;
    cursor.range = range;
    this.draw(cursor);
  }

  removeCursor(id) {
    const cursor = this.cursors.get(id);
    if (cursor) cursor.caret.remove();
    this.cursors.delete(id);
  }

  redraw() {
    this.cursors.forEach((cursor) => this.draw(cursor));
  }

  draw(cursor) {
    const range = cursor.range;
    const length = this.quill.getLength();
    if (!range || range.index > length) {
      cursor.caret.hidden = true;
      return;
    }
    const bounds = this.quill.getBounds(Math.min(range.index + range.length, length - 1), 0);
    if (!bounds) return;
    cursor.caret.hidden = false;
    cursor.caret.style.left = bounds.left + "px";
    cursor.caret.style.top = bounds.top + "px";
    cursor.caret.style.height = bounds.height + "px";
  }
}
