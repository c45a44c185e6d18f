'use strict';
// Handlebars renders the compiled email HTML, its Jinja tags rewritten as Handlebars by
// translate.py, with each recipient's prepared context: one template per language, compiled
// once; per recipient only template(context). No validation, segments, text part or inlining.
//
//   node benchmarks/peers/handlebars.js DATA.json [--check OUT.json]
//   (without --check: "ready" after the warm-up, then one timed pass per "time" line on stdin)

const Handlebars = require('handlebars');
const { parseArguments, serve, tagUrl, pluralForm } = require('./common');

const { data, check } = parseArguments();

// The Jinja filters and operators the templates use, as helpers (the last argument of a
// helper is Handlebars' options object).
const handlebars = Handlebars.create();
handlebars.registerHelper({
  utm: (url, query, ...rest) => tagUrl(url, query, rest.slice(0, -1)),
  plural_form: (count, language) => pluralForm(count, language),
  // The phrases filter (BudouX phrases of a Japanese product name), as bench_peers.py
  // computed it for every name in the data: a lookup, like the memoised Python filter.
  phrases: (name, language) => {
    const phrased = (data.phrases[language] || {})[name];
    return phrased === undefined ? name : new Handlebars.SafeString(phrased);
  },
  batch: (list, size) => {
    const rows = [];
    for (let i = 0; i < list.length; i += size) rows.push(list.slice(i, i + size));
    return rows;
  },
  slice: (list, start, end) => (Array.isArray(list) ? list.slice(start, typeof end === 'number' ? end : undefined) : []),
  concat: (left, right) => `${left}${right}`,
  eq: (left, right) => left === right,
  ne: (left, right) => left !== right,
});

// ignoreStandalone: keep the whitespace around block tags alone on a line, as Jinja does.
const templates = {};
for (const [language, source] of Object.entries(data.handlebars)) {
  templates[language] = handlebars.compile(source, { ignoreStandalone: true });
}

const render = (recipient) => templates[recipient.language](recipient.context);
serve(check, render, data.recipients, { sync: true });
