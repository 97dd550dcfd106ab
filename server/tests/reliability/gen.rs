//! Deterministic generation of malformed Engine.IO / Socket.IO input from a seed: the same seed
//! gives the same packets, so a failure is reproduced by running with the printed seed.
//!
//! The generator knows Engine.IO / Socket.IO framing but no Natter event: the test hands it
//! one valid sample payload per event (serialized from the protocol crate), and it mutates those.

use serde_json::{Map, Value};

use natter_testkit::raw::{json_string, RawFrame};

/// splitmix64: small, fast, and the same on every platform.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n` > 0; 0 gives 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        (self.next_u64() % n as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

/// One generated input: what kind it is (for the report) and the frame to send.
#[derive(Debug, Clone)]
pub struct Probe {
    pub kind: &'static str,
    pub frame: RawFrame,
}

/// Every kind [`Malformed::probe`] produces, in order of its choice.
pub const KINDS: [&str; 22] = [
    "eio-unknown-type",
    "eio-binary-junk",
    "sio-unknown-type",
    "sio-bad-namespace",
    "name-not-string",
    "name-reserved",
    "name-unknown",
    "ack-id-huge",
    "ack-id-negative",
    "ack-id-non-numeric",
    "attachments",
    "deep-nesting",
    "invalid-utf8",
    "proto-keys",
    "wrong-field-type",
    "missing-field",
    "payload-not-object",
    "extra-args",
    "truncated",
    "trailing-garbage",
    "lone-surrogate",
    "valid-request",
];

/// Names Socket.IO itself reserves or that JS servers treat specially.
const RESERVED: [&str; 9] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
    "error",
    "",
    "__proto__",
];

/// The malformed-input generator over a corpus of `(event name, valid payload)` samples.
#[derive(Debug, Clone)]
pub struct Malformed {
    rng: Rng,
    corpus: Vec<(String, Value)>,
    next_ack: u64,
}

impl Malformed {
    /// `corpus` must not be empty: one valid sample payload per event.
    pub fn new(seed: u64, corpus: Vec<(String, Value)>) -> Self {
        Self {
            rng: Rng::new(seed),
            corpus,
            next_ack: 1_000_000,
        }
    }

    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }

    fn ack(&mut self) -> u64 {
        self.next_ack += 1;
        self.next_ack
    }

    fn sample(&mut self) -> (String, Value) {
        if self.corpus.is_empty() {
            return ("x".to_owned(), Value::Object(Map::new()));
        }
        let i = self.rng.below(self.corpus.len());
        self.corpus[i].clone()
    }

    /// A JSON value of a random type, unlike most fields' real one.
    fn wrong_value(&mut self) -> Value {
        let long = "x".repeat(1 + self.rng.below(20_000));
        let choices = [
            Value::Null,
            Value::Bool(true),
            Value::from(-1),
            Value::from(i64::MIN),
            Value::from(u64::MAX),
            Value::from(1.5e300),
            Value::String(String::new()),
            Value::String(long),
            Value::Array(vec![Value::from(1), Value::Null]),
            serde_json::json!({"$gt": ""}),
            Value::String("\u{0}\u{202e}<script>".to_owned()),
        ];
        choices[self.rng.below(choices.len())].clone()
    }

    fn event(&mut self, name_json: &str, payload: &str) -> String {
        let id = self.ack();
        format!("42{id}[{name_json},{payload}]")
    }

    /// The next probe.
    pub fn probe(&mut self) -> Probe {
        let kind = KINDS[self.rng.below(KINDS.len())];
        let frame = self.make(kind);
        Probe { kind, frame }
    }

    fn make(&mut self, kind: &'static str) -> RawFrame {
        let (name, sample) = self.sample();
        let name_json = json_string(&name);
        let sample_json = sample.to_string();
        let text = match kind {
            "eio-unknown-type" => {
                let t = *self
                    .rng
                    .pick(&["7", "8", "9", "a", "Z", "{", " ", "-1", ""]);
                let n = self.rng_len(32);
                let junk = self.rng.bytes(n);
                format!("{t}{}", String::from_utf8_lossy(&junk))
            }
            "eio-binary-junk" => {
                let n = self.rng_len(256);
                return RawFrame::Binary(self.rng.bytes(n));
            }
            "sio-unknown-type" => {
                let t = *self.rng.pick(&["7", "8", "9", "x", "", "66", "4"]);
                format!("4{t}[{name_json},{sample_json}]")
            }
            "sio-bad-namespace" => {
                let ns = *self.rng.pick(&["/admin", "/nope", "/", "/../x", "/\u{0}"]);
                let t = *self.rng.pick(&["0", "1", "2", "3"]);
                let id = self.ack();
                format!("4{t}{ns},{id}[{name_json},{sample_json}]")
            }
            "name-not-string" => {
                let n = *self
                    .rng
                    .pick(&["1", "null", "{}", "[]", "true", "-0.5", "1e999"]);
                self.event(n, &sample_json)
            }
            "name-reserved" => {
                let n = json_string(RESERVED[self.rng.below(RESERVED.len())]);
                self.event(&n, &sample_json)
            }
            "name-unknown" => {
                let len = self.rng_len(40);
                let bytes = self.rng.bytes(len);
                let n = json_string(&String::from_utf8_lossy(&bytes));
                self.event(&n, &sample_json)
            }
            "ack-id-huge" => {
                let digits = 19 + self.rng.below(40);
                let id: String = (0..digits)
                    .map(|_| char::from(b'1' + (self.rng.below(9) as u8)))
                    .collect();
                format!("42{id}[{name_json},{sample_json}]")
            }
            "ack-id-negative" => {
                let n = 1 + self.rng.below(1 << 20);
                format!("42-{n}[{name_json},{sample_json}]")
            }
            "ack-id-non-numeric" => {
                let id = *self
                    .rng
                    .pick(&["abc", " 1", "1.5", "0x10", "+7", "1e3", "\u{661}"]);
                format!("42{id}[{name_json},{sample_json}]")
            }
            "attachments" => {
                let count = *self.rng.pick(&[
                    "0",
                    "1",
                    "2",
                    "1000000",
                    "18446744073709551616",
                    "-1",
                    "x",
                    "",
                ]);
                let t = *self.rng.pick(&["5", "6"]);
                let id = self.ack();
                let num = *self.rng.pick(&["0", "1", "-1", "99999", "\"0\"", "null"]);
                format!("4{t}{count}-{id}[{name_json},{{\"_placeholder\":true,\"num\":{num}}}]")
            }
            "deep-nesting" => {
                let depth = 100 + self.rng.below(20_000);
                let (open, close) = if self.rng.below(2) == 0 {
                    ("[", "]")
                } else {
                    ("{\"a\":", "}")
                };
                let body = format!("{}1{}", open.repeat(depth), close.repeat(depth));
                self.event(&name_json, &body)
            }
            "invalid-utf8" => {
                let id = self.ack();
                let mut bytes = format!("42{id}[{name_json},{{\"body\":\"").into_bytes();
                const BAD: [&[u8]; 4] = [
                    &[0xff, 0xfe],
                    &[0xc3],
                    &[0xed, 0xa0, 0x80],
                    &[0xf8, 0x88, 0x80, 0x80, 0x80],
                ];
                let bad = BAD[self.rng.below(BAD.len())];
                bytes.extend_from_slice(bad);
                bytes.extend_from_slice(b"\"}]");
                return RawFrame::BadUtf8Text(bytes);
            }
            "proto-keys" => {
                let mut obj = as_object(sample);
                let key = *self
                    .rng
                    .pick(&["__proto__", "constructor", "prototype", "toString"]);
                obj.insert(
                    key.to_owned(),
                    serde_json::json!({"polluted": true, "prototype": {"admin": true}}),
                );
                self.event(&name_json, &Value::Object(obj).to_string())
            }
            "wrong-field-type" => {
                let mut obj = as_object(sample);
                let wrong = self.wrong_value();
                let keys: Vec<String> = obj.keys().cloned().collect();
                if keys.is_empty() {
                    obj.insert("x".to_owned(), wrong);
                } else {
                    let k = keys[self.rng.below(keys.len())].clone();
                    obj.insert(k, wrong);
                }
                self.event(&name_json, &Value::Object(obj).to_string())
            }
            "missing-field" => {
                let mut obj = as_object(sample);
                let keys: Vec<String> = obj.keys().cloned().collect();
                if !keys.is_empty() {
                    let k = keys[self.rng.below(keys.len())].clone();
                    obj.remove(&k);
                }
                self.event(&name_json, &Value::Object(obj).to_string())
            }
            "payload-not-object" => {
                let p = *self
                    .rng
                    .pick(&["\"text\"", "1", "[]", "null", "true", "[{}]"]);
                self.event(&name_json, p)
            }
            "extra-args" => {
                let id = self.ack();
                format!("42{id}[{name_json},{sample_json},{sample_json},null,1]")
            }
            "truncated" => {
                let full = self.event(&name_json, &sample_json);
                let cut = 1 + self.rng.below(full.len().saturating_sub(1).max(1));
                let mut cut = cut.min(full.len());
                while !full.is_char_boundary(cut) {
                    cut -= 1;
                }
                full[..cut].to_owned()
            }
            "trailing-garbage" => {
                let full = self.event(&name_json, &sample_json);
                format!("{full}]]}}\"garbage")
            }
            "lone-surrogate" => {
                let mut obj = as_object(sample);
                let keys: Vec<String> = obj.keys().cloned().collect();
                let k = keys.first().cloned().unwrap_or_else(|| "x".to_owned());
                obj.insert(k.clone(), Value::String("MARK".to_owned()));
                let json = Value::Object(obj)
                    .to_string()
                    .replace("MARK", "\\ud800x\\udfff");
                self.event(&name_json, &json)
            }
            _ => self.event(&name_json, &sample_json),
        };
        RawFrame::Text(text)
    }

    fn rng_len(&mut self, max: usize) -> usize {
        self.rng.below(max + 1)
    }

    /// A bad Engine.IO handshake query: wrong or missing version, unknown transport, junk.
    pub fn handshake_query(&mut self) -> String {
        let eio = *self.rng.pick(&[
            "EIO=3",
            "EIO=5",
            "EIO=0",
            "EIO=abc",
            "EIO=-4",
            "EIO=4.0",
            "",
            "EIO=99999999999999999999",
        ]);
        let transport = *self.rng.pick(&[
            "transport=websocket",
            "transport=polling",
            "transport=carrier-pigeon",
            "",
            "transport=",
        ]);
        format!("{eio}&{transport}")
    }

    /// A random Engine.IO sid that no session has.
    pub fn unknown_sid(&mut self) -> String {
        let len = self.rng_len(30);
        let bytes = self.rng.bytes(len);
        bytes
            .iter()
            .map(|b| {
                char::from(
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                        [(*b % 64) as usize],
                )
            })
            .collect()
    }
}

fn as_object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}
