//! `passwordless-tenant --config FILE [--listen ADDR]`, or
//! `passwordless-tenant --config FILE rotate-signing-key [--publish-secs N]`

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use passwordless_tenant::config::Config;
use passwordless_tenant::keys::{Keys, Promoted, Published, KEY_RELOAD_SECS};
use passwordless_tenant::store::Store;
use passwordless_tenant::{app, Tenant};

/// A local Auth0-compatible passwordless SMS tenant.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The TOML configuration file.
    #[arg(long)]
    config: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:4000")]
    listen: SocketAddr,
    /// Instead of serving, an operation on the tenant's database.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Replaces the RS256 signing key: publishes a new key in the JWKS (every running instance
    /// serves it within 30 s), waits `--publish-secs`, then makes it sign. The old key stays published until
    /// the next rotation, so the tokens it signed still verify. Interrupted, it resumes.
    RotateSigningKey {
        /// Seconds the new key is published before it signs: long enough for relying parties
        /// to refetch the JWKS (most cache it for minutes).
        #[arg(long, default_value_t = 600)]
        publish_secs: u64,
    },
}

/// mimalloc instead of the system allocator: a login allocates often and briefly (headers,
/// JSON, rows), and glibc's malloc and free were a tenth of the tenant's CPU under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "passwordless_tenant=info".into())
        // tokio-postgres logs every statement's parameters at debug level: phone numbers, code
        // MACs, token hashes. Whatever RUST_LOG says, the driver logs no more than info.
        .add_directive("tokio_postgres=info".parse().expect("a valid directive"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
    let args = Args::parse();
    if let Err(e) = run(args).await {
        eprintln!("passwordless-tenant: {e}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<(), passwordless_tenant::StartError> {
    let config = Config::load(&args.config)?;
    if let Some(Command::RotateSigningKey { publish_secs }) = args.command {
        return rotate(&config, publish_secs).await;
    }
    config.check_listen(args.listen)?;
    let outbox = config.outbox_served();
    let database = config.database()?.redacted();
    let tenant = Tenant::new(config).await?;
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    let addr = listener.local_addr()?;
    tracing::info!(
        "tenant {:?} listening on http://{addr} ({} at {database})",
        tenant.config.tenant.name,
        tenant.store.engine()
    );
    if outbox {
        tracing::info!("SMS codes appear at http://{addr}/dev/sms.html (JSON: /dev/sms)");
    }
    axum::serve(
        listener,
        app(tenant).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}

/// `rotate-signing-key`: publish, wait out the rest of `publish_secs` (counted from when the
/// next key was first published, so a second run does not wait again), promote.
async fn rotate(config: &Config, publish_secs: u64) -> Result<(), passwordless_tenant::StartError> {
    let store = Store::open_with(&config.database()?, config.tenant.database_connections).await?;
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
    };
    let Published { kid, since } = Keys::publish_next(&store, now()).await?;
    let wait = (publish_secs as i64 - (now() - since)).max(0);
    println!("the next signing key {kid} is published in the JWKS; it signs in {wait} s");
    if publish_secs < KEY_RELOAD_SECS {
        // Instances read the keys every KEY_RELOAD_SECS: one that has not yet read the new key
        // would refuse tokens another instance signs with it.
        eprintln!(
            "warning: --publish-secs {publish_secs} is shorter than the {KEY_RELOAD_SECS} s in \
             which running instances pick up a published key; fine for a single stopped tenant"
        );
    }
    tokio::time::sleep(std::time::Duration::from_secs(wait as u64)).await;
    let Promoted { kid, previous } = Keys::promote_next(&store).await?;
    println!(
        "the signing key is now {kid}; {previous} stays published until the next rotation \
         (instances switch within {KEY_RELOAD_SECS} s)"
    );
    Ok(())
}
