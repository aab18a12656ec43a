//! How long `phone::normalize` takes per number, on one thread and on several at once (each a
//! share of the numbers): numbers from every region libphonenumber knows in turn, as
//! `tenant-bench` makes them, three passes each. Prints figures; asserts nothing.
//! `cargo run --release -p passwordless-tenant --example normalize-bench [THREADS]`

use std::time::Instant;

use passwordless_tenant::phone::{example_numbers, normalize, prepare};

/// `count` numbers: the example mobile (else general) number of each region, its last four
/// digits counting down, region after region.
fn numbers(count: usize) -> Vec<String> {
    let examples = example_numbers(None);
    (0..count)
        .map(|i| {
            let ex = &examples[i % examples.len()];
            let stem = &ex[..ex.len().saturating_sub(4)];
            format!("{stem}{:04}", 9999 - (i / examples.len()) % 10_000)
        })
        .collect()
}

/// Microseconds per number for each thread, all running at once.
fn pass(numbers: &[String], threads: usize) -> Vec<f64> {
    std::thread::scope(|s| {
        let runs: Vec<_> = (0..threads)
            .map(|k| {
                s.spawn(move || {
                    let mine: Vec<&String> = numbers.iter().skip(k).step_by(threads).collect();
                    let t = Instant::now();
                    for n in &mine {
                        let _ = std::hint::black_box(normalize(n));
                    }
                    t.elapsed().as_secs_f64() * 1e6 / mine.len() as f64
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    })
}

fn main() {
    let threads: usize = std::env::args()
        .nth(1)
        .map_or(2, |a| a.parse().expect("THREADS is a number"));
    let numbers = numbers(4400);
    let t = Instant::now();
    prepare();
    println!("patterns compiled in {:.2} s", t.elapsed().as_secs_f64());
    for (label, n) in [("1 thread", 1), ("threads at once", threads)] {
        for i in 0..3 {
            let each: Vec<String> = pass(&numbers, n)
                .iter()
                .map(|us| format!("{us:.1}"))
                .collect();
            println!(
                "{label} ({n}), pass {}: {} µs per number",
                i + 1,
                each.join(" / ")
            );
        }
    }
}
