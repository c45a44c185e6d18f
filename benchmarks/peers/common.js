'use strict';
// What handlebars.js and react_email.js share: the data file bench_peers.py writes,
// the per-recipient timing, and the JavaScript counterparts of the email's filters.

const fs = require('fs');
const readline = require('readline');

// node SCRIPT DATA.json [--check OUT.json]: serve timed passes, or write every render for checking.
function parseArguments() {
  const [data, flag, out] = process.argv.slice(2);
  if (!data || (flag !== undefined && (flag !== '--check' || !out))) {
    throw new Error('usage: node SCRIPT DATA.json [--check OUT.json]');
  }
  return { data: JSON.parse(fs.readFileSync(data, 'utf8')), check: flag ? out : null };
}

// Untimed renders, round the recipients, for WARM_UP_MS (and WARM_UP_RENDERS at least)
// before the first timed pass: V8 compiles the hot functions with its optimising compiler
// only after many calls, and a big template's function takes a while (Handlebars takes
// about 2 s here to reach its steady time). The Python side is warm when it is timed too.
const WARM_UP_MS = 2000;
const WARM_UP_RENDERS = 50;

// With --check, every recipient's HTML is written to OUT.json. Otherwise, after the warm-up,
// "ready" is printed and each line read from stdin asks for one timed pass over the
// recipients, answered with one JSON line: the per-recipient mean in microseconds (wall
// time), the CPU time per recipient (user and system) and the mean output size in bytes
// (UTF-8). bench_peers.py asks once per round, so node starts and warms up once per template.
// A synchronous render (Handlebars) is timed without an await per recipient.
async function serve(check, render, items, { sync = false } = {}) {
  if (check) {
    const out = [];
    for (const item of items) out.push(await render(item));
    fs.writeFileSync(check, JSON.stringify(out));
    return;
  }
  let bytes = 0;
  let renders = 0;
  for (const warmUp = Date.now(); renders < WARM_UP_RENDERS || Date.now() - warmUp < WARM_UP_MS; renders++) {
    const item = items[renders % items.length];
    bytes += Buffer.byteLength(sync ? render(item) : await render(item));
  }
  bytes /= renders;
  process.stdout.write('ready\n');
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line.trim() !== 'time') throw new Error(`unknown request ${JSON.stringify(line)}`);
    const start = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    if (sync) {
      for (const item of items) render(item);
    } else {
      for (const item of items) await render(item);
    }
    const elapsed = Number(process.hrtime.bigint() - start) / 1e3;
    const used = process.cpuUsage(cpu);
    process.stdout.write(JSON.stringify({
      mean_us: elapsed / items.length, cpu_us: (used.user + used.system) / items.length, bytes,
    }) + '\n');
  }
}

// The utm filter (renderer/sandbox/urls.py): the query appended to an http(s) URL of one of
// the domains that has no utm_ parameter yet; memoised like the Python one.
const URL_PARTS = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/s;
const tagged = new Map();

function tagUrlOnce(url, query, domains) {
  if (!/^https?:\/\//i.test(url)) return url;
  const parts = URL_PARTS.exec(url);
  if (!parts) return url;
  const [, scheme, netloc, path, search, fragment] = parts;
  const host = netloc.replace(/^.*@/, '').replace(/:\d*$/, '').toLowerCase();
  if (!domains.some((domain) => host === domain || host.endsWith('.' + domain))) return url;
  if (search && search.includes('utm_')) return url;
  const joined = search ? `${search}&${query}` : query;
  return `${scheme}://${netloc}${path}?${joined}${fragment ? '#' + fragment : ''}`;
}

function tagUrl(url, query, domains) {
  if (typeof url !== 'string') return url;
  const key = `${url}\n${query}\n${domains.join(' ')}`;
  let result = tagged.get(key);
  if (result === undefined) {
    result = tagUrlOnce(url, query, domains);
    tagged.set(key, result);
  }
  return result;
}

// The plural_form filter: the CLDR category of a number (ICU's rules, Babel's in Python).
const pluralRules = new Map();

function pluralForm(count, language) {
  if (typeof count !== 'number') return 'other';
  let rules = pluralRules.get(language);
  if (rules === undefined) {
    rules = new Intl.PluralRules(language);
    pluralRules.set(language, rules);
  }
  return rules.select(count);
}

module.exports = { parseArguments, serve, tagUrl, pluralForm };
