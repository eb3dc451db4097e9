//! Reloading a 1M-term list set while messages stream: compile time, the
//! throughput dip, the longest stall of the message path, and peak resident
//! memory with two rulesets alive, from one run. `cargo bench --bench reload`.
//!
//! One worker thread scans the corpus in a loop, loading the current ruleset
//! from an `ArcSwap` per message as the engine's workers do; the main thread
//! compiles the new set (on the other core) and swaps it in. The new set is
//! another seeded list of the same size: the rate after the swap is that
//! set's, which scans this corpus more slowly (with the seeds swapped the
//! "after" rate is the higher one); the dip compares the compile window with
//! the rate before it, on the same set.

mod corpus;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use corpus::{list_set, peak_rss_mb, reset_peak_rss, rss_mb, Gen};
use wordwarden::engine::{compile, release_freed_memory};
use wordwarden::ruleset::Ruleset;

/// The binary's allocator, so the figures are the engine's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let n = if quick { 100_000 } else { 1_000_000 };
    wordwarden::fold::warm_up();
    let corpus = Gen::new(42).corpus(4 << 20);
    let old_terms = Gen::new(7).terms(n, true);
    let old_lists = list_set(&old_terms);
    drop(old_terms);
    // as the engine: lists consumed by the compile, freed memory handed back
    let current = Arc::new(ArcSwap::from_pointee(
        compile(&Ruleset::builder(), old_lists).expect("compiles"),
    ));
    let steady = rss_mb();
    // the reload's own peak from here (the first compile above peaks too)
    let start_peak = peak_rss_mb();
    reset_peak_rss();
    // the new set arrives with the reload, as read from disk or the list topic
    let new_lists = list_set(&Gen::new(8).terms(n, true));

    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let max_gap = Arc::new(Mutex::new(Duration::ZERO));
    let worker = {
        let (current, stop, done, max_gap) =
            (current.clone(), stop.clone(), done.clone(), max_gap.clone());
        std::thread::spawn(move || {
            let mut last = Instant::now();
            let mut gap = Duration::ZERO;
            'outer: loop {
                for m in &corpus {
                    if stop.load(Ordering::Relaxed) {
                        break 'outer;
                    }
                    let rs = current.load_full();
                    std::hint::black_box(rs.find(m).len());
                    let now = Instant::now();
                    gap = gap.max(now - last);
                    last = now;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
            *max_gap.lock().unwrap_or_else(|p| p.into_inner()) = gap;
        })
    };
    // throughput in 100 ms windows
    let sample = |d: Duration| {
        let a = done.load(Ordering::Relaxed);
        std::thread::sleep(d);
        (done.load(Ordering::Relaxed) - a) as f64 / d.as_secs_f64()
    };
    let before = sample(Duration::from_secs(2));
    let t = Instant::now();
    let compiling = {
        let lists = new_lists;
        std::thread::spawn(move || {
            // as the engine's reloader: one automaton after the other
            // (`reload_parallel_compile` off), the engine's compile
            compile(&Ruleset::builder().parallel(false), lists).expect("compiles")
        })
    };
    let mut during = Vec::new();
    while !compiling.is_finished() {
        during.push(sample(Duration::from_millis(100)));
    }
    let new = compiling.join().expect("compile thread");
    let compile_s = t.elapsed().as_secs_f64();
    let swap_t = Instant::now();
    let old = current.swap(Arc::new(new));
    let swap_us = swap_t.elapsed().as_micros();
    // as the engine's reloader does: free the old ruleset off the message path
    std::thread::spawn(move || {
        while Arc::strong_count(&old) > 1 {
            std::thread::sleep(Duration::from_millis(10));
        }
        drop(old);
        release_freed_memory();
    });
    let after = sample(Duration::from_secs(2));
    let settled = rss_mb();
    stop.store(true, Ordering::Relaxed);
    let _ = worker.join();
    let gap = *max_gap.lock().unwrap_or_else(|p| p.into_inner());
    let min_during = during.iter().cloned().fold(f64::INFINITY, f64::min);
    let avg_during = during.iter().sum::<f64>() / during.len().max(1) as f64;
    println!("reload of a {n}-term list set while scanning (2 cores: one scans, one compiles)");
    println!("compile: {compile_s:.2} s; swap: {swap_us} us");
    println!(
        "throughput msgs/s: before {before:.0}, during compile avg {avg_during:.0} (min 100 ms window {min_during:.0}), after {after:.0}; dip {:.0}%",
        100.0 * (1.0 - avg_during / before)
    );
    println!(
        "longest gap between two messages: {:.1} ms",
        gap.as_secs_f64() * 1000.0
    );
    println!(
        "resident: steady {steady:.0} MiB with one ruleset, peak {:.0} MiB while compiling the second: {:.2}x; {settled:.0} MiB after the swap (first compile peaked at {start_peak:.0} MiB)",
        peak_rss_mb(),
        peak_rss_mb() / steady
    );
}
