// Benchmark peer: what a Node.js developer would write with socket.io 4.8 for Natter's events,
// everything in memory (or, with --redis-url, in Redis: see "two nodes" below). natter-bench starts it, drives it exactly as it drives the relay, and
// compares. It keeps the same promises the bench checks (ack with a gap-free per-room seq,
// idempotency on (sender, client_id), one broadcast per message in seq order) but nothing is
// durable: no database, no fsync, no password hashing (see docs/benchmarks.md).
//
// The event names and payload shapes mirror crates/protocol (the single source in Rust); the
// bench's smoke test drives this server, so any drift fails `cargo test -p natter-bench`.
//
// Usage: node server.js [--bind 127.0.0.1:0] [--redis-url redis://HOST:PORT].
// Prints "natter-peer-node listening on HOST:PORT".
//
// Two nodes (issue 17): with --redis-url, several processes share one Redis as a Node team
// would set them up: @socket.io/redis-adapter carries broadcasts and room joins between nodes,
// and the state the nodes share (accounts, tokens, rooms, seqs, idempotency) lives in Redis
// (no persistence: still nothing durable). A send is one Lua script (membership check, dedup,
// seq), so seqs stay gap-free whichever node a sender is on.

import { createServer } from "node:http";
import { randomBytes, randomUUID } from "node:crypto";
import { Server } from "socket.io";

const MAX_BODY_CHARS = 4000;
const MAX_PAYLOAD_BYTES = 64 * 1024;
const MAX_CREATE_MEMBERS = 256;
const GENERAL = "general";

function flag(argv, name) {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] ? argv[i + 1] : undefined;
}

function parseBind(argv) {
  const bind = flag(argv, "--bind") ?? "127.0.0.1:0";
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
  if (shared) return shared.http(req, res, body);
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
  if (shared) return shared.auth(socket, next);
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
  if (shared) for (const id of socket.data.roomIds) joined.push(chatRoom(id));
  else for (const room of rooms.values()) if (room.members.has(user.id)) joined.push(chatRoom(room.id));
  socket.join(joined);

  // Every request answers through its ack; a request without one is ignored. With Redis the
  // answer is a promise.
  const on = (name, handle) =>
    socket.on(name, (payload, ack) => {
      if (typeof ack !== "function") return;
      if (payload === null || typeof payload !== "object") return ack(fail("invalid", "payload must be an object"));
      const answer = handle(payload);
      if (answer instanceof Promise) answer.then(ack, (e) => ack(fail("internal", String(e))));
      else ack(answer);
    });
  if (shared) return shared.handlers(socket, user, on);

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

// ---- two nodes: the state in Redis, broadcasts through @socket.io/redis-adapter ----
const SEND_SCRIPT = `
if redis.call('SISMEMBER', KEYS[3], ARGV[2]) == 0 then return false end
local old = redis.call('GET', KEYS[1])
if old then return old end
local seq = redis.call('INCR', KEYS[2])
local message = string.gsub(ARGV[1], '"seq":0', '"seq":' .. seq, 1)
redis.call('SET', KEYS[1], message)
return message`;

async function sharedState(url) {
  const { createClient } = await import("redis");
  const { createAdapter } = await import("@socket.io/redis-adapter");
  const pub = createClient({ url });
  const sub = pub.duplicate();
  const db = pub.duplicate();
  for (const c of [pub, sub, db]) c.on("error", (e) => process.stderr.write(`redis: ${e}\n`));
  await Promise.all([pub.connect(), sub.connect(), db.connect()]);
  io.adapter(createAdapter(pub, sub));
  const send = await db.scriptLoad(SEND_SCRIPT);
  await db.set(`room:${GENERAL}`, JSON.stringify({ id: GENERAL, name: "general", kind: "group" }), { NX: true });
  const members = (id) => `room:${id}:members`;
  const roomsOf = (uid) => `user:${uid}:rooms`;
  const byName = (name) => `name:${name.toLowerCase()}`;

  async function view(id) {
    const [json, names, seq] = await Promise.all([db.get(`room:${id}`), db.sMembers(members(id)), db.get(`room:${id}:seq`)]);
    const room = JSON.parse(json);
    names.sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
    return { ...room, members: names, last_seq: Number(seq ?? 0), read_seq: 0 };
  }

  return {
    async http(req, res, body) {
      let user;
      if (req.url === "/api/register") {
        user = { id: randomUUID(), username: body.username, password: body.password };
        if (!(await db.set(byName(user.username), JSON.stringify(user), { NX: true }))) {
          return reply(res, 409, { error: { code: "invalid", message: "username taken" } });
        }
        await Promise.all([db.sAdd(roomsOf(user.id), GENERAL), db.sAdd(members(GENERAL), user.username)]);
      } else {
        user = JSON.parse((await db.get(byName(body.username))) ?? "null");
        if (!user || user.password !== body.password) {
          return reply(res, 401, { error: { code: "unauthorized", message: "wrong username or password" } });
        }
      }
      const token = randomBytes(32).toString("base64url");
      await db.set(`token:${token}`, JSON.stringify(user));
      reply(res, req.url === "/api/register" ? 201 : 200, { user: { id: user.id, username: user.username }, token });
    },

    // The user and their rooms are read before the CONNECT ack, so the socket is in every room
    // of theirs when the client hears it is connected.
    auth(socket, next) {
      const token = socket.handshake.auth && socket.handshake.auth.token;
      if (!isStr(token)) return next(new Error("unauthorized"));
      (async () => {
        const user = JSON.parse((await db.get(`token:${token}`)) ?? "null");
        if (!user) return next(new Error("unauthorized"));
        socket.data.user = user;
        socket.data.roomIds = await db.sMembers(roomsOf(user.id));
        next();
      })().catch((e) => next(new Error(String(e))));
    },

    handlers(socket, user, on) {
      on("rooms:list", async () => {
        const ids = await db.sMembers(roomsOf(user.id));
        return { ok: true, rooms: await Promise.all(ids.map(view)) };
      });

      on("room:create", async (req) => {
        if (!isStr(req.name) || req.name.length === 0 || req.name.length > 64) return fail("invalid", "bad room name");
        const names = Array.isArray(req.members) ? req.members : [];
        if (names.length > MAX_CREATE_MEMBERS) return fail("invalid", "too many members");
        const found = names.length ? await db.mGet(names.map((n) => byName(String(n)))) : [];
        const users = new Map([[user.id, user]]);
        for (const [i, json] of found.entries()) {
          if (!json) return fail("not_found", `no user ${names[i]}`);
          const other = JSON.parse(json);
          users.set(other.id, other);
        }
        const room = { id: randomUUID(), name: req.name, kind: "group" };
        await db.set(`room:${room.id}`, JSON.stringify(room));
        await db.sAdd(members(room.id), [...users.values()].map((u) => u.username));
        await Promise.all([...users.keys()].map((id) => db.sAdd(roomsOf(id), room.id)));
        const targets = [...users.keys()].map(userRoom);
        // This node's sockets at once (the adapter applies a join when Redis echoes it back),
        // every node's through the adapter.
        io.local.in(targets).socketsJoin(chatRoom(room.id));
        io.in(targets).socketsJoin(chatRoom(room.id));
        const shown = await view(room.id);
        io.to(targets).emit("room", { room: shown });
        return { ok: true, room: shown };
      });

      on("message:send", async (req) => {
        if (!isStr(req.room_id) || !isStr(req.client_id) || !isStr(req.body)) return fail("invalid", "room_id, client_id and body are required");
        if (req.client_id.length === 0 || req.client_id.length > 64) return fail("invalid", "bad client_id");
        if ([...req.body].length > MAX_BODY_CHARS) return fail("too_large", "body too long");
        // `seq` first: the script puts the room's next seq in place of the first `"seq":0`.
        const draft = JSON.stringify({
          seq: 0,
          id: randomUUID(),
          room_id: req.room_id,
          sender: user.username,
          body: req.body,
          client_id: req.client_id,
          sent_at: new Date().toISOString(),
        });
        const keys = [`sent:${user.id}:${req.client_id}`, `room:${req.room_id}:seq`, members(req.room_id)];
        const json = await db.evalSha(send, { keys, arguments: [draft, user.username] });
        if (json === null) return fail("forbidden", "not a member of that room");
        const message = JSON.parse(json);
        if (json === draft.replace('"seq":0', `"seq":${message.seq}`)) {
          io.to(chatRoom(req.room_id)).emit("message", { message });
        }
        return { ok: true, message };
      });

      on("typing", async (req) => {
        if (!isStr(req.room_id) || typeof req.typing !== "boolean") return fail("invalid", "room_id and typing are required");
        if (!(await db.sIsMember(members(req.room_id), user.username))) return fail("forbidden", "not a member of that room");
        socket.to(chatRoom(req.room_id)).except(userRoom(user.id)).emit("typing", { room_id: req.room_id, user: user.username, typing: req.typing });
        return { ok: true };
      });
    },
  };
}

const redisUrl = flag(process.argv, "--redis-url");
const shared = redisUrl ? await sharedState(redisUrl) : undefined;

const { host, port } = parseBind(process.argv);
server.listen(port, host, () => {
  const addr = server.address();
  process.stdout.write(`natter-peer-node listening on ${addr.address}:${addr.port}\n`);
});
process.on("SIGTERM", () => process.exit(0));
