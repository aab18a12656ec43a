//! `passwordless-tenant --config FILE [--listen ADDR]`

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use passwordless_tenant::config::Config;
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
}

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
