//! A small, strict reader of Prometheus text exposition format 0.0.4, for the metrics test:
//! every line is `# HELP`, `# TYPE` or a sample `name{label="value",...} value`; every family
//! has a HELP; every sample belongs to a family with a TYPE given before it (a histogram's `_bucket`, `_sum` and
//! `_count` to the histogram); label values are quoted; values are floats; no series twice;
//! a histogram's buckets rise with `le`, are cumulative and end at `+Inf`, equal to `_count`.

use std::collections::{BTreeMap, HashMap, HashSet};

/// One sample: its name, its labels in order, its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

/// A parsed exposition.
#[derive(Debug, Default)]
pub struct Exposition {
    pub samples: Vec<Sample>,
    /// Family name → its TYPE.
    pub types: HashMap<String, String>,
}

impl Exposition {
    /// The value of the series `name` with exactly `labels` (in any order).
    pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let mut want: Vec<(&str, &str)> = labels.to_vec();
        want.sort_unstable();
        self.samples.iter().find_map(|s| {
            let mut have: Vec<(&str, &str)> = s
                .labels
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            have.sort_unstable();
            (s.name == name && have == want).then_some(s.value)
        })
    }

    /// Every label value of every sample.
    pub fn label_values(&self) -> impl Iterator<Item = &str> {
        self.samples
            .iter()
            .flat_map(|s| s.labels.iter().map(|(_, v)| v.as_str()))
    }
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn parse_value(s: &str) -> Result<f64, String> {
    match s {
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        _ => s.parse::<f64>().map_err(|e| format!("value {s:?}: {e}")),
    }
}

/// `name{a="x",b="y"} value`: the name, the labels, and what follows them.
fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line.find(['{', ' ']).ok_or("a sample without a value")?;
    let name = &line[..name_end];
    if !is_name(name) {
        return Err(format!("bad metric name {name:?}"));
    }
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(inner) = rest.strip_prefix('{') {
        let mut chars = inner.char_indices().peekable();
        loop {
            // A label name up to '=', or the end '}'.
            let start = chars.peek().map(|(i, _)| *i).ok_or("unterminated labels")?;
            if inner[start..].starts_with('}') {
                rest = &inner[start + 1..];
                break;
            }
            let eq = inner[start..].find('=').ok_or("a label without '='")? + start;
            let label = &inner[start..eq];
            if !is_name(label) || label.contains(':') {
                return Err(format!("bad label name {label:?}"));
            }
            while chars.peek().is_some_and(|(i, _)| *i <= eq) {
                chars.next();
            }
            if chars.next().map(|(_, c)| c) != Some('"') {
                return Err(format!("label {label} is not quoted"));
            }
            let mut value = String::new();
            loop {
                match chars.next().map(|(_, c)| c) {
                    Some('"') => break,
                    Some('\\') => match chars.next().map(|(_, c)| c) {
                        Some('\\') => value.push('\\'),
                        Some('"') => value.push('"'),
                        Some('n') => value.push('\n'),
                        other => return Err(format!("bad escape {other:?} in label {label}")),
                    },
                    Some('\n') | None => return Err(format!("unterminated value of {label}")),
                    Some(c) => value.push(c),
                }
            }
            if labels.iter().any(|(l, _)| l == label) {
                return Err(format!("label {label} twice"));
            }
            labels.push((label.to_owned(), value));
            match chars.peek().map(|(_, c)| *c) {
                Some(',') => {
                    chars.next();
                }
                Some('}') => {}
                other => return Err(format!("{other:?} after label {label}")),
            }
        }
    }
    let rest = rest
        .strip_prefix(' ')
        .ok_or_else(|| format!("no space before the value in {line:?}"))?;
    let mut fields = rest.split(' ');
    let value = parse_value(fields.next().unwrap_or_default())?;
    // An optional timestamp (ms); nothing after it.
    if let Some(ts) = fields.next() {
        ts.parse::<i64>()
            .map_err(|e| format!("timestamp {ts:?}: {e}"))?;
    }
    if fields.next().is_some() {
        return Err(format!("trailing fields in {line:?}"));
    }
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

/// The family `name` belongs to, given the TYPEs declared so far.
fn family_of<'a>(name: &'a str, types: &HashMap<String, String>) -> Option<&'a str> {
    if types.contains_key(name) {
        return Some(name);
    }
    ["_bucket", "_sum", "_count"].iter().find_map(|suffix| {
        let base = name.strip_suffix(suffix)?;
        (types.get(base).map(String::as_str) == Some("histogram")).then_some(base)
    })
}

/// Parses `text`, or says what is wrong with it (with the line).
pub fn parse(text: &str) -> Result<Exposition, String> {
    let mut out = Exposition::default();
    let mut helped = HashSet::new();
    let mut seen = HashSet::new();
    let mut current: Option<String> = None;
    let mut done_families = HashSet::new();
    let body = text
        .strip_suffix('\n')
        .ok_or("the text does not end with a newline")?;
    for (n, line) in body.split('\n').enumerate() {
        let at = |e: String| format!("line {}: {e}: {line:?}", n + 1);
        if let Some(comment) = line.strip_prefix("# ") {
            let (keyword, rest) = comment
                .split_once(' ')
                .ok_or_else(|| at("bare comment".into()))?;
            let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
            if !is_name(name) {
                return Err(at(format!("bad name {name:?}")));
            }
            match keyword {
                "HELP" => {
                    if !helped.insert(name.to_owned()) {
                        return Err(at("a second HELP".into()));
                    }
                }
                "TYPE" => {
                    if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&tail) {
                        return Err(at(format!("unknown type {tail:?}")));
                    }
                    if out.types.insert(name.to_owned(), tail.to_owned()).is_some() {
                        return Err(at("a second TYPE".into()));
                    }
                }
                _ => return Err(at(format!("unknown comment {keyword:?}"))),
            }
            continue;
        }
        let sample = parse_sample(line).map_err(at)?;
        let family = family_of(&sample.name, &out.types)
            .ok_or_else(|| at("a sample with no TYPE before it".into()))?
            .to_owned();
        // A family's samples come together.
        if current.as_deref() != Some(family.as_str()) {
            if let Some(previous) = current.replace(family.clone()) {
                done_families.insert(previous);
            }
            if done_families.contains(&family) {
                return Err(at(format!("{family}'s samples are split")));
            }
        }
        let mut key = sample.labels.clone();
        key.sort_unstable();
        if !seen.insert((sample.name.clone(), key)) {
            return Err(at("the same series twice".into()));
        }
        out.samples.push(sample);
    }
    if let Some(bare) = out.types.keys().find(|name| !helped.contains(*name)) {
        return Err(format!("{bare} has a TYPE but no HELP"));
    }
    check_histograms(&out)?;
    Ok(out)
}

/// A histogram's series (its labels besides `le`) → its buckets as (le, count), in order.
type Buckets = BTreeMap<Vec<(String, String)>, Vec<(f64, f64)>>;

/// Each histogram series (its labels other than `le`): buckets rising, cumulative, ending at
/// `+Inf` with `_count`, and a `_sum`.
fn check_histograms(e: &Exposition) -> Result<(), String> {
    for (family, kind) in &e.types {
        if kind != "histogram" {
            continue;
        }
        let mut series = Buckets::new();
        for s in e
            .samples
            .iter()
            .filter(|s| s.name == format!("{family}_bucket"))
        {
            let le = s
                .labels
                .iter()
                .find(|(k, _)| k == "le")
                .ok_or_else(|| format!("{family}: a bucket without le"))?;
            let le = parse_value(&le.1)?;
            let rest: Vec<_> = s
                .labels
                .iter()
                .filter(|(k, _)| k != "le")
                .cloned()
                .collect();
            series.entry(rest).or_default().push((le, s.value));
        }
        if series.is_empty() {
            return Err(format!("{family}: a histogram without buckets"));
        }
        for (labels, buckets) in series {
            let pairs: Vec<(&str, &str)> = labels
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            for pair in buckets.windows(2) {
                if pair[1].0 <= pair[0].0 {
                    return Err(format!("{family}: le not rising: {buckets:?}"));
                }
                if pair[1].1 < pair[0].1 {
                    return Err(format!("{family}: buckets not cumulative: {buckets:?}"));
                }
            }
            let last = buckets.last().copied().unwrap_or_default();
            if last.0 != f64::INFINITY {
                return Err(format!("{family}: the last bucket is not +Inf"));
            }
            let count = e
                .get(&format!("{family}_count"), &pairs)
                .ok_or_else(|| format!("{family}: no _count"))?;
            if count != last.1 {
                return Err(format!(
                    "{family}: +Inf bucket {} != _count {count}",
                    last.1
                ));
            }
            e.get(&format!("{family}_sum"), &pairs)
                .ok_or_else(|| format!("{family}: no _sum"))?;
        }
    }
    Ok(())
}

#[test]
fn the_reader_takes_good_text_and_refuses_each_kind_of_bad() {
    let good = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"q\\\"uo\\\\te\",y=\"2\"} 3\n\
                # HELP h H.\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 4.5\nh_count 2\n";
    let e = parse(good).expect("good text");
    assert_eq!(
        e.get("a_total", &[("y", "2"), ("x", "q\"uo\\te")]),
        Some(3.0)
    );
    assert_eq!(e.get("h_count", &[]), Some(2.0));
    // Each bad text, and a word of the error it must get (so it fails for that reason).
    let bad = [
        ("a 1\n", "no TYPE"),
        ("# TYPE a gauge\na{x=y} 1\n", "not quoted"),
        ("# TYPE a gauge\na{x=\"y} 1\n", "unterminated"),
        ("# TYPE a gauge\na one\n", "value"),
        ("# TYPE a gauge\na 1\na 2\n", "twice"),
        ("# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na{x=\"1\"} 1\n", "split"),
        ("# TYPE a gauge\na 1", "newline"),
        ("# TYPE a gauge\n\na 1\n", "without a value"),
        ("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 0\nh_count 1\n", "cumulative"),
        ("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 0\nh_count 1\n", "not +Inf"),
        ("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 0\nh_count 3\n", "!= _count"),
        ("# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 0\nh_count 1\n", "rising"),
    ];
    let helps = "# HELP a A.\n# HELP b B.\n# HELP h H.\n";
    for (text, why) in bad {
        let text = format!("{helps}{text}");
        match parse(&text) {
            Ok(_) => panic!("accepted ({why}): {text:?}"),
            Err(e) => assert!(e.contains(why), "{text:?}: refused with {e:?}, not {why:?}"),
        }
    }
    let bare = parse("# TYPE a gauge\na 1\n").expect_err("a TYPE without HELP");
    assert!(bare.contains("no HELP"), "{bare}");
}
