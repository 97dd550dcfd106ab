// Temporary probe (not committed): N idle sockets on a relay, then wait for SIGTERM.
import { io } from "socket.io-client";
const url = process.argv[2], n = Number(process.argv[3] ?? 1000), users = 10;
const tokens = [];
for (let u = 0; u < users; u++) {
  const r = await fetch(`${url}/api/register`, { method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: `idle${Date.now() % 100000}u${u}`, password: "correct horse battery" }) });
  tokens.push((await r.json()).token);
}
let up = 0;
for (let i = 0; i < n; i++) {
  const s = io(url, { transports: ["websocket"], auth: { token: tokens[i % users] }, reconnection: false });
  await new Promise((ok, bad) => { s.once("connect", ok); s.once("connect_error", bad); });
  up++;
}
console.log(`up ${up}`);
setTimeout(() => process.exit(0), 600_000);
