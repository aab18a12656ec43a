//! A throwaway PostgreSQL cluster in the target directory, for the tenant's tests and benches:
//! Debian's server binaries, a fresh data directory per run, loopback only, trust
//! authentication, durability off (nothing in it outlives the run). `initdb` and `postgres`
//! refuse to run as root, so as root they run as the `postgres` user.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::run;

/// The newest `/usr/lib/postgresql/N/bin` that has a server.
pub fn bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            (bin.join("postgres").exists() && bin.join("initdb").exists()).then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// A running cluster; stopped when dropped.
pub struct Cluster {
    bin: PathBuf,
    data: PathBuf,
    as_postgres: bool,
    /// The loopback port it listens on.
    pub port: u16,
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl Cluster {
    /// Creates a new cluster in `dir` (replacing what was there) and starts it.
    pub fn start(dir: &Path) -> Result<Self, String> {
        let bin = bin_dir().ok_or("PostgreSQL is not installed (Debian package postgresql)")?;
        let as_postgres = is_root();
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        if as_postgres {
            run(Command::new("chown").args(["postgres:postgres"]).arg(dir))?;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let cluster = Self {
            bin,
            data: dir.join("data"),
            as_postgres,
            port,
        };
        run(cluster
            .command("initdb")
            .args([
                "--auth=trust",
                "--username=postgres",
                "--no-sync",
                "--encoding=UTF8",
            ])
            .args(["--locale=C", "--pgdata"])
            .arg(&cluster.data))?;
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=400",
            cluster.data.display()
        );
        run(cluster
            .command("pg_ctl")
            .args(["start", "--wait", "--timeout=60", "--silent", "--pgdata"])
            .arg(&cluster.data)
            .arg("--log")
            .arg(cluster.data.join("server.log"))
            .args(["-o", &options]))
        .map_err(|e| {
            let log = std::fs::read_to_string(cluster.data.join("server.log")).unwrap_or_default();
            format!("{e}\n{log}")
        })?;
        println!(
            "xtask: PostgreSQL {} on 127.0.0.1:{port} (data in {})",
            cluster
                .bin
                .parent()
                .and_then(|p| p.file_name())
                .and_then(|n| n.to_str())
                .unwrap_or("?"),
            cluster.data.display()
        );
        Ok(cluster)
    }

    fn command(&self, tool: &str) -> Command {
        let program = self.bin.join(tool);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        }
    }

    /// The server's URL, without a database name.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}", self.port)
    }

    /// Creates a database and returns its URL.
    pub fn create_database(&self, name: &str) -> Result<String, String> {
        run(Command::new(self.bin.join("createdb")).args([
            "-h",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-U",
            "postgres",
            name,
        ]))?;
        Ok(format!("{}/{name}", self.url()))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .args(["stop", "--mode=fast", "--silent", "--pgdata"])
            .arg(&self.data)
            .status();
    }
}
