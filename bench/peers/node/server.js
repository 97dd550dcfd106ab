// Benchmark peer: what a Node.js developer would write with socket.io 4.8 for Natter's events,
// everything in memory. natter-bench starts it, drives it exactly as it drives the relay, and
// compares. It keeps the same promises the bench checks (ack with a gap-free per-room seq,
// idempotency on (sender, client_id), one broadcast per message in seq order) but nothing is
// durable: no database, no fsync, no password hashing (see docs/benchmarks.md).
//
// The event names and payload shapes mirror crates/protocol (the single source in Rust); the
// bench's smoke test drives this server, so any drift fails `cargo test -p natter-bench`.
//
// Usage: node server.js [--bind 127.0.0.1:0]. Prints "natter-peer-node listening on HOST:PORT".

import { createServer } from "node:http";
import { randomBytes, randomUUID } from "node:crypto";
import { Server } from "socket.io";

const MAX_BODY_CHARS = 4000;
const MAX_PAYLOAD_BYTES = 64 * 1024;
const MAX_CREATE_MEMBERS = 256;
const GENERAL = "general";

function parseBind(argv) {
  const i = argv.indexOf("--bind");
  const bind = i >= 0 && argv[i + 1] ? argv[i + 1] : "127.0.0.1:0";
  const colon = bind.lastIndexOf(":");
  return { host: bind.slice(0, colon), port: Number(bind.slice(colon + 1)) };
}

// ---- state, all in memory ----
const usersByName = new Map(); // lower-case username -> user
const usersByToken = new Map(); // token -> user
const rooms = new Map(); // room id -> room
const sent = new Map(); // `${user.id}\n${client_id}` -> message (idempotency)
const usersById = new Map(); // user id -> user

rooms.set(GENERAL, { id: GENERAL, name: "general", kind: "group", members: new Set(), last_seq: 0 });

const chatRoom = (id) => `r:${id}`;
const userRoom = (id) => `u:${id}`;

function roomView(room) {
  const members = [...room.members]
    .map((id) => usersById.get(id).username)
    .sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
  return { id: room.id, name: room.name, kind: room.kind, members, last_seq: room.last_seq, read_seq: 0 };
}

const fail = (code, message) => ({ ok: false, error: { code, message } });
const isStr = (v) => typeof v === "string";

// ---- HTTP: register and login hand out a random token (no password hashing) ----
function readJson(req, limit) {
  return new Promise((resolve) => {
    let size = 0;
    const chunks = [];
    req.on("data", (c) => {
      size += c.length;
      if (size > limit) req.destroy();
      else chunks.push(c);
    });
    req.on("end", () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch {
        resolve(null);
      }
    });
    req.on("error", () => resolve(null));
  });
}

function reply(res, status, body) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

async function http(req, res) {
  if (req.url.startsWith("/socket.io/")) return; // socket.io answers these
  if (req.method === "GET" && req.url === "/healthz") return reply(res, 200, { status: "ok", version: "node-peer" });
  if (req.method !== "POST" || (req.url !== "/api/register" && req.url !== "/api/login")) {
    return reply(res, 404, { error: { code: "not_found", message: "no such route" } });
  }
  const body = await readJson(req, 4096);
  if (!body || !isStr(body.username) || !isStr(body.password)) {
    return reply(res, 400, { error: { code: "invalid", message: "username and password are required" } });
  }
  const key = body.username.toLowerCase();
  let user = usersByName.get(key);
  if (req.url === "/api/register") {
    if (user) return reply(res, 409, { error: { code: "invalid", message: "username taken" } });
    user = { id: randomUUID(), username: body.username, password: body.password };
    usersByName.set(key, user);
    usersById.set(user.id, user);
    rooms.get(GENERAL).members.add(user.id);
  } else if (!user || user.password !== body.password) {
    return reply(res, 401, { error: { code: "unauthorized", message: "wrong username or password" } });
  }
  const token = randomBytes(32).toString("base64url");
  usersByToken.set(token, user);
  reply(res, req.url === "/api/register" ? 201 : 200, { user: { id: user.id, username: user.username }, token });
}

// ---- Socket.IO ----
const server = createServer({ noDelay: true }, http);
const io = new Server(server, {
  maxHttpBufferSize: MAX_PAYLOAD_BYTES,
  pingInterval: 25000,
  pingTimeout: 20000,
  connectTimeout: 10000,
  serveClient: false,
  cors: undefined,
});

io.use((socket, next) => {
  const token = socket.handshake.auth && socket.handshake.auth.token;
  const user = isStr(token) ? usersByToken.get(token) : undefined;
  if (!user) return next(new Error("unauthorized"));
  socket.data.user = user;
  next();
});

function member(user, roomId) {
  const room = isStr(roomId) ? rooms.get(roomId) : undefined;
  return room && room.members.has(user.id) ? room : undefined;
}

io.on("connection", (socket) => {
  const user = socket.data.user;
  const joined = [userRoom(user.id)];
  for (const room of rooms.values()) if (room.members.has(user.id)) joined.push(chatRoom(room.id));
  socket.join(joined);

  // Every request answers through its ack; a request without one is ignored.
  const on = (name, handle) =>
    socket.on(name, (payload, ack) => {
      if (typeof ack !== "function") return;
      if (payload === null || typeof payload !== "object") return ack(fail("invalid", "payload must be an object"));
      ack(handle(payload));
    });

  on("rooms:list", () => {
    const list = [];
    for (const room of rooms.values()) if (room.members.has(user.id)) list.push(roomView(room));
    return { ok: true, rooms: list };
  });

  on("room:create", (req) => {
    if (!isStr(req.name) || req.name.length === 0 || req.name.length > 64) return fail("invalid", "bad room name");
    const names = Array.isArray(req.members) ? req.members : [];
    if (names.length > MAX_CREATE_MEMBERS) return fail("invalid", "too many members");
    const ids = new Set([user.id]);
    for (const name of names) {
      const other = isStr(name) ? usersByName.get(name.toLowerCase()) : undefined;
      if (!other) return fail("not_found", `no user ${name}`);
      ids.add(other.id);
    }
    const room = { id: randomUUID(), name: req.name, kind: "group", members: ids, last_seq: 0 };
    rooms.set(room.id, room);
    for (const id of ids) io.in(userRoom(id)).socketsJoin(chatRoom(room.id));
    io.to([...ids].map(userRoom)).emit("room", { room: roomView(room) });
    return { ok: true, room: roomView(room) };
  });

  on("message:send", (req) => {
    if (!isStr(req.room_id) || !isStr(req.client_id) || !isStr(req.body)) return fail("invalid", "room_id, client_id and body are required");
    if (req.client_id.length === 0 || req.client_id.length > 64) return fail("invalid", "bad client_id");
    if ([...req.body].length > MAX_BODY_CHARS) return fail("too_large", "body too long");
    const room = member(user, req.room_id);
    if (!room) return fail("forbidden", "not a member of that room");
    const key = `${user.id}\n${req.client_id}`;
    const again = sent.get(key);
    if (again) return { ok: true, message: again };
    room.last_seq += 1;
    const message = {
      id: randomUUID(),
      room_id: room.id,
      seq: room.last_seq,
      sender: user.username,
      body: req.body,
      client_id: req.client_id,
      sent_at: new Date().toISOString(),
    };
    sent.set(key, message);
    io.to(chatRoom(room.id)).emit("message", { message });
    return { ok: true, message };
  });

  on("typing", (req) => {
    if (!isStr(req.room_id) || typeof req.typing !== "boolean") return fail("invalid", "room_id and typing are required");
    if (!member(user, req.room_id)) return fail("forbidden", "not a member of that room");
    socket.to(chatRoom(req.room_id)).except(userRoom(user.id)).emit("typing", { room_id: req.room_id, user: user.username, typing: req.typing });
    return { ok: true };
  });
});

const { host, port } = parseBind(process.argv);
server.listen(port, host, () => {
  const addr = server.address();
  process.stdout.write(`natter-peer-node listening on ${addr.address}:${addr.port}\n`);
});
process.on("SIGTERM", () => process.exit(0));
