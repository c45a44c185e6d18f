// The reference compiler (mjml 5, the JavaScript MJML) for tests/test_fidelity.py.
// Reads a JSON array of MJML documents on stdin and writes a JSON array of
// {html, errors} on stdout, one per document, in order: one node start-up for
// every email. Compiled with validationLevel "soft" so a document's
// validation errors come back as data for the test to show.
"use strict";
const mjml2html = require("mjml");

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", async () => {
  const results = [];
  for (const source of JSON.parse(input)) {
    const result = await mjml2html(source, { validationLevel: "soft", fonts: {}, minify: false });
    results.push({ html: result.html, errors: result.errors.map((e) => e.formattedMessage) });
  }
  process.stdout.write(JSON.stringify(results));
});
