//! The widget's phone code against the `phonenumber` crate, the source of truth.
//!
//! For every metadata entry, every example number of every type, and mutations of each (every
//! digit dropped in turn, a digit added at every place, the leading digit changed to each other
//! digit, random digits of every length from 1 to 17), written the ways people type them
//! (national, with the national prefix, `+` and calling code with the region and with another
//! region, the international prefix), the widget must give `phonenumber`'s verdict: valid or
//! not, and for valid numbers the region, E.164, national and international formats. As-you-type
//! formatting must agree on the number and never drop or reorder a digit. One mismatch fails.
//!
//! A plain `main` (harness = false) so the corpus size and the figures are printed in every run.

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use leptos_passwordless::phone::{as_you_type, country, PhoneNumber};
use phonenumber::metadata::{Descriptor, Metadata, DATABASE};
use phonenumber::Mode;

/// What `phonenumber` says about `input` typed with `region` as the default.
fn reference(input: &str, region: &str) -> Option<[String; 4]> {
    let id: phonenumber::country::Id = region.parse().ok()?;
    let parsed = phonenumber::parse(Some(id), input).ok()?;
    if !phonenumber::is_valid(&parsed) || parsed.extension().is_some() {
        return None;
    }
    Some([
        parsed
            .country()
            .id()
            .map(|id| id.as_ref().to_string())
            .unwrap_or_default(),
        parsed.format().mode(Mode::E164).to_string(),
        parsed.format().mode(Mode::National).to_string(),
        parsed.format().mode(Mode::International).to_string(),
    ])
}

/// What the widget says.
fn widget(input: &str, region: &str) -> Option<[String; 4]> {
    let p = PhoneNumber::parse(input, region).ok()?;
    Some([
        p.region().unwrap_or_default().to_string(),
        p.e164().to_string(),
        p.national().to_string(),
        p.international().to_string(),
    ])
}

fn descriptors(m: &Metadata) -> Vec<&Descriptor> {
    let d = m.descriptors();
    let mut list = vec![d.general()];
    list.extend(
        [
            d.fixed_line(),
            d.mobile(),
            d.toll_free(),
            d.premium_rate(),
            d.shared_cost(),
            d.personal_number(),
            d.voip(),
            d.pager(),
            d.uan(),
            d.emergency(),
            d.voicemail(),
            d.short_code(),
            d.standard_rate(),
            d.carrier(),
            d.no_international(),
        ]
        .into_iter()
        .flatten(),
    );
    list
}

/// A small deterministic generator, so every run checks the same corpus.
struct Rng(u64);

impl Rng {
    fn digit(&mut self) -> char {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        char::from(b'0' + (self.0 % 10) as u8)
    }
}

fn mutations(example: &str, rng: &mut Rng) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    out.insert(example.to_string());
    for i in 0..example.len() {
        out.insert(format!("{}{}", &example[..i], &example[i + 1..]));
    }
    for i in 0..=example.len() {
        out.insert(format!("{}{}{}", &example[..i], rng.digit(), &example[i..]));
    }
    for d in '0'..='9' {
        out.insert(format!("{d}{}", example.get(1..).unwrap_or("")));
    }
    out
}

fn main() -> ExitCode {
    // Built with `fetched-phone-tables` (a workspace build unifies the JS bundle's features):
    // every part build.rs wrote, installed as the bundle installs what it fetches.
    #[cfg(feature = "fetched-phone-tables")]
    for file in std::fs::read_dir(concat!(env!("OUT_DIR"), "/phone-tables")).expect("the parts") {
        let text = std::fs::read_to_string(file.expect("a part").path()).expect("a part's text");
        leptos_passwordless::phone::install_part(text).expect("build.rs's phone tables");
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    // (region, input): ordered by region so `phonenumber`'s small regex cache stays warm.
    let mut cases: BTreeSet<(String, String)> = BTreeSet::new();
    let mut examples = 0;
    // Every entry, by calling code: `DATABASE.iter()` walks them by ID, and the non-geographic
    // ones all share the ID `001`.
    let metas: Vec<&Metadata> = (1..1000)
        .filter_map(|c| DATABASE.by_code(&c))
        .flatten()
        .collect();
    for &m in &metas {
        let geographic = m.id() != "001";
        let other = if m.id() == "US" { "DE" } else { "US" };
        let mut numbers = BTreeSet::new();
        for d in descriptors(m) {
            if let Some(example) = d.example() {
                examples += 1;
                numbers.extend(mutations(example, &mut rng));
            }
        }
        for len in 1..=17 {
            for _ in 0..3 {
                numbers.insert((0..len).map(|_| rng.digit()).collect());
            }
        }
        let code = m.country_code();
        // Without the "wait for a dial tone" mark (`8~10`): nobody types it.
        let idd = m
            .preferred_international_prefix()
            .map(|p| p.replace('~', ""))
            .or_else(|| {
                let p = m.international_prefix()?.as_str().to_string();
                p.bytes().all(|b| b.is_ascii_digit()).then_some(p)
            });
        for n in numbers {
            cases.insert((other.to_string(), format!("+{code}{n}")));
            if !geographic {
                cases.insert(("GB".to_string(), format!("+{code} {n}")));
                continue;
            }
            let region = m.id().to_string();
            cases.insert((region.clone(), n.clone()));
            cases.insert((region.clone(), format!("+{code}{n}")));
            if let Some(np) = m.national_prefix() {
                cases.insert((region.clone(), format!("{np}{n}")));
            }
            if let Some(idd) = &idd {
                cases.insert((region.clone(), format!("{idd}{code}{n}")));
            }
        }
    }

    let mut valid = 0;
    let mut failures = Vec::new();
    let (mut t_ref, mut t_widget) = (Duration::ZERO, Duration::ZERO);
    for (region, input) in &cases {
        let t = Instant::now();
        let want = reference(input, region);
        t_ref += t.elapsed();
        let t = Instant::now();
        let got = widget(input, region);
        t_widget += t.elapsed();
        if want.is_some() {
            valid += 1;
        }
        if want != got {
            failures.push(format!(
                "{input:?} in {region}: phonenumber {want:?}, widget {got:?}"
            ));
            continue;
        }
        // As you type: the same number, and every digit kept in order.
        let typed = as_you_type(input, region);
        let digits = |s: &str| -> String { s.chars().filter(char::is_ascii_digit).collect() };
        let e164 = typed.number.as_ref().map(|n| n.e164().to_string());
        if e164 != want.as_ref().map(|w| w[1].clone()) || digits(&typed.text) != digits(input) {
            failures.push(format!(
                "{input:?} in {region}: as you type {:?} → {e164:?}",
                typed.text
            ));
        }
    }
    // The placeholder: each region's example mobile number in national format.
    let mut placeholders = 0;
    for m in metas.iter().filter(|m| m.id() != "001") {
        let want = m
            .descriptors()
            .mobile()
            .and_then(Descriptor::example)
            .and_then(|e| reference(&format!("+{}{e}", m.country_code()), m.id()))
            .map(|r| r[2].clone());
        let got = country(m.id()).and_then(|c| c.example());
        placeholders += 1;
        if want != got {
            failures.push(format!("placeholder of {}: {want:?} vs {got:?}", m.id()));
        }
    }

    let total = cases.len() + placeholders;
    println!(
        "phone differential: {} metadata entries, {examples} example numbers, {} cases \
         ({valid} valid, {} invalid) + {placeholders} placeholders; agreement {:.3}% ({} mismatches)",
        metas.len(),
        cases.len(),
        cases.len() - valid,
        100.0 * (total - failures.len()) as f64 / total as f64,
        failures.len()
    );
    println!(
        "  time in phonenumber {:.1} s, in the widget's code {:.1} s (this build's profile)",
        t_ref.as_secs_f64(),
        t_widget.as_secs_f64()
    );
    if failures.is_empty() {
        // In the form the xtask's test counter reads: this file is one test.
        println!("test result: ok. 1 passed; 0 failed");
        return ExitCode::SUCCESS;
    }
    for f in failures.iter().take(40) {
        println!("  {f}");
    }
    ExitCode::FAILURE
}
