'use strict';
// A small hand-written module used as a fuzzing seed.
const path = require('path');
const { promisify } = require('util');

class Cache {
  #items = new Map();
  get(key) { return this.#items.get(key); }
  set(key, value) { this.#items.set(key, value); return this; }
}

async function load(dir, name = 'index') {
  const file = path.join(dir, `${name}.json`);
  try {
    return JSON.parse(await promisify(require('fs').readFile)(file, 'utf8'));
  } catch (err) {
    if (err?.code === 'ENOENT') return null;
    throw err;
  }
}

module.exports = { Cache, load, pattern: /^[a-z]+\/(?:\d+)$/i };
