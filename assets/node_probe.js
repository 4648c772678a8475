// flotilla's behaviour probe for JavaScript: requires solution.js, evaluates each call
// expression listed in _flotilla_probe.json with the module's exports in scope, and prints the
// values (JSON, or "!ErrorName") as one JSON line after a marker. Candidates that print the same
// line behave the same on these inputs.
'use strict';
const fs = require('node:fs');

function show(value) {
  try {
    const text = JSON.stringify(value);
    return (text === undefined ? String(value) : text).slice(0, 200);
  } catch (e) {
    return String(value).slice(0, 200);
  }
}

const exprs = JSON.parse(fs.readFileSync('_flotilla_probe.json', 'utf8'));
let mod;
try {
  mod = require('./solution.js');
} catch (e) {
  const name = '!' + ((e && e.name) || 'Error');
  console.log('FLOTILLA_PROBE ' + JSON.stringify(exprs.map(() => name)));
  process.exit(0);
}
const names = Object.keys(mod || {}).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n));
const values = names.map((n) => mod[n]);
const out = [];
for (const expr of exprs) {
  try {
    const call = new Function(...names, 'return (' + expr + ');');
    out.push(show(call(...values)));
  } catch (e) {
    out.push('!' + ((e && e.name) || 'Error'));
  }
}
console.log('FLOTILLA_PROBE ' + JSON.stringify(out));
