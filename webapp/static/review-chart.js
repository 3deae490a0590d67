// The review page's waterfall chart: each piece of evidence added up to the match weight.
// The content security policy allows no inline script and no eval, so the chart's spec sits
// in a <script type="application/json"> element (data, never run) and Vega evaluates its
// expressions with vega-interpreter instead of compiling them; the canvas renderer sets no
// inline styles.
document.addEventListener("DOMContentLoaded", () => {
  const source = document.getElementById("waterfall-spec");
  const target = document.getElementById("waterfall");
  if (!source || !target || typeof vegaEmbed === "undefined") {
    return;
  }
  vegaEmbed(target, JSON.parse(source.textContent), {
    actions: false,
    ast: true,
    expr: vega.expressionInterpreter,
    renderer: "canvas",
    defaultStyle: false,
    tooltip: false,
  }).catch((error) => {
    target.textContent = `The chart could not be drawn (${error.message}).`;
  });
});
