// famlink's only script (the content security policy allows no other): keyboard shortcuts
// for forms that declare them. A button with data-key="m" is pressed by the key m, unless
// the reader is typing in a field.
document.addEventListener("keydown", (event) => {
  const target = event.target;
  if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement ||
      target instanceof HTMLSelectElement || event.ctrlKey || event.metaKey || event.altKey) {
    return;
  }
  const button = document.querySelector(`[data-key="${CSS.escape(event.key)}"]`);
  if (button) {
    event.preventDefault();
    button.click();
  }
});
