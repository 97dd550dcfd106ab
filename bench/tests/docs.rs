//! `natter-bench docs`: the saved comparison (docs/bench/compare.json) renders docs/benchmarks.md's
//! generated section and plots exactly as committed, so the page can be redrawn without a new
//! run, and a page edited by hand between the markers is caught.

use std::path::Path;

use natter_bench::compare::Comparison;
use natter_bench::docs;

type Result<T = (), E = Box<dyn std::error::Error + Send + Sync>> = std::result::Result<T, E>;

#[test]
fn the_saved_json_renders_the_committed_page() -> Result {
    let page = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/benchmarks.md");
    let json = docs::json_path(&page);
    let comparison: Comparison = serde_json::from_str(&std::fs::read_to_string(&json)?)?;
    let dir = tempfile::tempdir()?;
    let copy = dir.path().join("benchmarks.md");
    std::fs::copy(&page, &copy)?;
    docs::render(&comparison, &copy)?;
    let read = |p: &Path| std::fs::read_to_string(p);
    assert!(
        read(&copy)? == read(&page)?,
        "docs/benchmarks.md differs from what its saved JSON renders: run `natter-bench docs`"
    );
    let plots = page.with_file_name("bench");
    for plot in [
        "quiet-round-trip.svg",
        "fanout-latency.svg",
        "fanout-throughput.svg",
    ] {
        let drawn = read(&dir.path().join("bench").join(plot))?;
        assert!(drawn == read(&plots.join(plot))?, "{plot} as committed");
    }
    Ok(())
}
