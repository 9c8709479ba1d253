//! The `slotpay` command line: `serve` (the default), `migrate`, `merchant add|list`,
//! `integration set|show|verify|activate|deactivate`, `operator set-password|list|remove`,
//! `master-key rotate`.
//! Every command calls the same domain functions as the platform API. Keys can come from a
//! file or standard input (`-`), since command-line arguments are visible to other users in
//! `ps`; an operator's password comes only from a prompt or standard input.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use secrecy::SecretString;

use crate::admin::operators;
use crate::app::{self, StartError};
use crate::config::Config;
use crate::domain::integrations::{self, IntegrationInput, IntegrationView};
use crate::domain::merchants::{self, MerchantInput};
use crate::domain::DomainError;
use crate::state::AppState;
use crate::telemetry;

/// slotpay: embeddable checkout for online booking. Configuration comes from SLOTPAY_*
/// environment variables over an optional TOML file.
#[derive(Debug, Parser)]
#[command(name = "slotpay", version)]
pub struct Cli {
    /// A TOML file mirroring the variables (`listen = "..."` for SLOTPAY_LISTEN); also
    /// SLOTPAY_CONFIG.
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage merchants.
    #[command(subcommand)]
    Merchant(MerchantCommand),
    /// Manage a merchant's Stripe integration.
    #[command(subcommand)]
    Integration(IntegrationCommand),
    /// Manage the operators who sign in to the admin pages with a password.
    #[command(subcommand)]
    Operator(OperatorCommand),
    /// Manage the master key that encrypts secrets at rest.
    #[command(subcommand)]
    MasterKey(MasterKeyCommand),
    /// Print the API's OpenAPI 3.1 document (as served at /v1/openapi.json).
    Openapi,
}

/// Master key commands.
#[derive(Debug, Subcommand)]
pub enum MasterKeyCommand {
    /// Re-encrypt every stored secret under a new key, in one transaction, and replace
    /// `<data dir>/master.key` with it. Stop the servers first; back up the new key after.
    /// Safe to interrupt: run it again to finish (servers refuse to start until then).
    Rotate,
}

/// Operator commands.
#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Set (or replace) an operator's password, asked at the terminal without echo (twice),
    /// or read from standard input (one line) when it is not a terminal; never an argument.
    /// Ends the operator's sessions.
    SetPassword {
        /// The operator's sign-in name.
        name: String,
    },
    /// List the operators.
    List,
    /// Remove an operator (its sessions end).
    Remove {
        /// The operator's sign-in name.
        name: String,
    },
}

/// Merchant commands.
#[derive(Debug, Subcommand)]
pub enum MerchantCommand {
    /// Add a merchant; prints its id.
    Add {
        /// Name shown to clients.
        #[arg(long)]
        name: String,
        /// An origin allowed to embed the widget (repeatable).
        #[arg(long = "origin", value_name = "URL")]
        origins: Vec<String>,
        /// Default locale (en, fr, de, es).
        #[arg(long)]
        locale: Option<String>,
        /// IANA time zone for the times pages and emails show (default UTC).
        #[arg(long, value_name = "NAME")]
        time_zone: Option<String>,
    },
    /// List merchants (id, name, origins).
    List,
}

/// Integration commands.
#[derive(Debug, Subcommand)]
#[allow(
    clippy::large_enum_variant,
    reason = "parsed once from the command line; boxing clap's fields buys nothing"
)]
pub enum IntegrationCommand {
    /// Add or edit the integration (options left out keep the stored values).
    Set {
        /// The merchant id.
        merchant: String,
        /// pk_test_... or pk_live_...
        #[arg(long)]
        publishable_key: Option<String>,
        /// sk_... or rk_... (visible in `ps`: prefer --secret-key-file).
        #[arg(long, conflicts_with = "secret_key_file")]
        secret_key: Option<String>,
        /// A file holding the secret key, or `-` for standard input.
        #[arg(long, value_name = "PATH")]
        secret_key_file: Option<String>,
        /// whsec_..., when the key cannot register webhook endpoints.
        #[arg(long, conflicts_with = "webhook_secret_file")]
        webhook_secret: Option<String>,
        /// A file holding the signing secret, or `-` for standard input.
        #[arg(long, value_name = "PATH")]
        webhook_secret_file: Option<String>,
        /// off, sandbox or live.
        #[arg(long)]
        mode: Option<String>,
        /// A label.
        #[arg(long)]
        name: Option<String>,
        /// An accepted card brand (repeatable; default visa, mastercard, amex, discover).
        #[arg(long = "card-brand", value_name = "BRAND")]
        card_brands: Vec<String>,
        /// A way to pay offered (repeatable: card, ideal, bancontact, sepa_debit; card is
        /// always among them; default card).
        #[arg(long = "payment-method", value_name = "TYPE")]
        payment_methods: Vec<String>,
        /// Whether card payments may come from wallets (Apple Pay, Google Pay).
        #[arg(long)]
        wallets: Option<bool>,
    },
    /// Show the integration (keys masked).
    Show {
        /// The merchant id.
        merchant: String,
    },
    /// Ask Stripe whether the key works; records Active or Error.
    Verify {
        /// The merchant id.
        merchant: String,
    },
    /// Verify, register the webhook endpoint, switch on.
    Activate {
        /// The merchant id.
        merchant: String,
    },
    /// Switch off.
    Deactivate {
        /// The merchant id.
        merchant: String,
    },
}

/// Parses the arguments and runs the command.
pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve);
    let serving = matches!(command, Command::Serve);
    // The server reads its own configuration; a command run beside it follows what the
    // server last started with where nothing is configured here.
    let config = if serving {
        Config::from_env(cli.config.as_deref()).map(|c| (c, Vec::new()))
    } else {
        Config::from_env_like_the_server(cli.config.as_deref())
    };
    let config = match config {
        Ok((c, adopted)) => {
            for (variable, value) in adopted {
                eprintln!(
                    "slotpay: {variable} as the server last started with: {value} (from {}; set {variable} to change it)",
                    c.data_dir.join(crate::config::LAST_START_FILE).display()
                );
            }
            c
        }
        Err(e) => {
            eprintln!("slotpay: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.log, if serving { "info" } else { "warn" });
    match run(config, command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("slotpay: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config, command: Command) -> Result<(), String> {
    match command {
        Command::Serve => {
            let server = app::serve(config).await.map_err(|e| e.to_string())?;
            let addr = server.addr;
            tokio::select! {
                r = server.wait() => r.map_err(|e| e.to_string()),
                _ = tokio::signal::ctrl_c() => {
                    tracing::info!(%addr, "stopping");
                    Ok(())
                }
            }
        }
        Command::Openapi => {
            let doc = crate::routes::openapi::document()
                .to_pretty_json()
                .map_err(|e| e.to_string())?;
            println!("{doc}");
            Ok(())
        }
        Command::Migrate => {
            app::open_database(&config)
                .await
                .map_err(|e| e.to_string())?;
            println!("migrations applied");
            Ok(())
        }
        Command::Merchant(cmd) => {
            let state = open(config).await?;
            merchant(&state, cmd).await.map_err(describe)
        }
        Command::Integration(cmd) => {
            let state = open(config).await?;
            integration(&state, cmd).await
        }
        Command::Operator(cmd) => {
            let state = open(config).await?;
            operator(&state, cmd).await
        }
        Command::MasterKey(MasterKeyCommand::Rotate) => {
            let done = crate::key_rotation::rotate(&config).await?;
            println!(
                "master key rotated: {} secrets re-encrypted{}; back up {} now",
                done.reencrypted,
                if done.already > 0 {
                    format!(" ({} already under the new key)", done.already)
                } else {
                    String::new()
                },
                config
                    .data_dir
                    .join(crate::secrets::MASTER_KEY_FILE)
                    .display()
            );
            Ok(())
        }
    }
}

/// Reads a new password: at a terminal, asked twice without echo; otherwise one line of
/// standard input.
fn read_new_password(name: &str) -> Result<SecretString, String> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        return read_secret("-");
    }
    let first = rpassword::prompt_password(format!("New password for {name}: "))
        .map_err(|e| format!("cannot read the password: {e}"))?;
    let second = rpassword::prompt_password("Again: ")
        .map_err(|e| format!("cannot read the password: {e}"))?;
    if first != second {
        return Err("the two passwords differ; nothing changed".into());
    }
    Ok(SecretString::from(first))
}

async fn operator(state: &AppState, cmd: OperatorCommand) -> Result<(), String> {
    match cmd {
        OperatorCommand::SetPassword { name } => {
            let password = read_new_password(&name)?;
            let created = operators::set_password(state, &name, password)
                .await
                .map_err(describe)?;
            println!(
                "{} {}",
                if created {
                    "operator added:"
                } else {
                    "password changed for"
                },
                name.trim()
            );
        }
        OperatorCommand::List => {
            for o in operators::list(state).await.map_err(describe)? {
                println!(
                    "{}\tpassword set {}",
                    o.name,
                    crate::domain::reports::iso8601(o.updated_at)
                );
            }
        }
        OperatorCommand::Remove { name } => {
            if !operators::remove(state, &name).await.map_err(describe)? {
                return Err(format!("no operator named {}", name.trim()));
            }
            println!("operator removed: {}", name.trim());
        }
    }
    Ok(())
}

async fn open(config: Config) -> Result<AppState, String> {
    let bound = config.listen;
    app::prepare(config, bound)
        .await
        .map_err(|e: StartError| e.to_string())
}

fn describe(e: DomainError) -> String {
    match e {
        DomainError::Invalid(errors) => errors
            .all()
            .iter()
            .map(|e| match &e.param {
                Some(p) => format!("{p}: {} ({})", e.message, e.code),
                None => format!("{} ({})", e.message, e.code),
            })
            .collect::<Vec<_>>()
            .join("\n"),
        DomainError::Refused(e) => format!("{} ({})", e.message, e.code),
        other => other.to_string(),
    }
}

async fn merchant(state: &AppState, cmd: MerchantCommand) -> Result<(), DomainError> {
    match cmd {
        MerchantCommand::Add {
            name,
            origins,
            locale,
            time_zone,
        } => {
            let m = merchants::create(
                state,
                MerchantInput {
                    name: Some(name),
                    allowed_origins: Some(origins),
                    locale,
                    time_zone,
                    logo_url: None,
                    brand_color: None,
                    corners: None,
                    font: None,
                    color_scheme: None,
                },
            )
            .await?;
            println!("{}", m.id);
        }
        MerchantCommand::List => {
            for m in merchants::list(state).await? {
                println!("{}\t{}\t{}", m.id, m.name, m.allowed_origins.join(" "));
            }
        }
    }
    Ok(())
}

/// Reads a secret from a file or standard input, without its final line break.
fn read_secret(path: &str) -> Result<SecretString, String> {
    let mut text = String::new();
    if path == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
    } else {
        text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    }
    let line = text.strip_suffix('\n').unwrap_or(&text);
    let line = line.strip_suffix('\r').unwrap_or(line);
    Ok(SecretString::from(line.to_owned()))
}

fn print_integration(v: &IntegrationView) {
    println!("merchant:     {}", v.merchant_id);
    println!("name:         {}", v.name);
    println!("mode:         {}", v.mode.as_str());
    println!(
        "switched:     {}",
        if v.active {
            "on (activated)"
        } else {
            "off (deactivated)"
        }
    );
    let status = match &v.status_reason {
        Some(r) => format!("error: {} ({})", r.message, r.code),
        None => v.status.as_str().to_owned(),
    };
    println!("key status:   {status}");
    println!(
        "payments:     {}",
        if v.payments_available {
            "available"
        } else {
            "not available"
        }
    );
    if let Some(a) = &v.account {
        println!(
            "account:      {} ({}, {})",
            a.id,
            a.country.as_deref().unwrap_or("?"),
            a.default_currency.map_or("?", |c| c.code())
        );
    }
    println!("keys:         {} / {}", v.publishable_key, v.secret_key);
    println!("webhook url:  {}", v.webhook.url);
    if let Some(s) = &v.webhook.signing_secret {
        println!(
            "webhook:      {s} ({})",
            v.webhook.secret_source.map_or("?", |s| s.as_str())
        );
    }
    for w in &v.warnings {
        println!("note:         {}", w.message);
    }
}

async fn integration(state: &AppState, cmd: IntegrationCommand) -> Result<(), String> {
    let progress = |what: &str| {
        eprint!("{what} ... ");
        let _ = std::io::stderr().flush();
    };
    let view = match cmd {
        IntegrationCommand::Set {
            merchant,
            publishable_key,
            secret_key,
            secret_key_file,
            webhook_secret,
            webhook_secret_file,
            mode,
            name,
            card_brands,
            payment_methods,
            wallets,
        } => {
            let secret_key = match (secret_key, secret_key_file) {
                (Some(k), _) => Some(SecretString::from(k)),
                (None, Some(path)) => Some(read_secret(&path)?),
                (None, None) => None,
            };
            let webhook_secret = match (webhook_secret, webhook_secret_file) {
                (Some(k), _) => Some(Some(SecretString::from(k))),
                (None, Some(path)) => Some(Some(read_secret(&path)?)),
                (None, None) => None,
            };
            let input = IntegrationInput {
                name,
                publishable_key,
                secret_key,
                webhook_secret,
                mode,
                card_brands: (!card_brands.is_empty()).then_some(card_brands),
                payment_methods: (!payment_methods.is_empty()).then_some(payment_methods),
                wallets,
            };
            integrations::set(state, &merchant, input).await
        }
        IntegrationCommand::Show { merchant } => integrations::get(state, &merchant).await,
        IntegrationCommand::Verify { merchant } => {
            progress("asking Stripe about the key");
            let r = integrations::verify(state, &merchant).await;
            eprintln!("{}", if r.is_ok() { "done" } else { "failed" });
            r
        }
        IntegrationCommand::Activate { merchant } => {
            progress("verifying the key and registering the webhook endpoint with Stripe");
            let r = integrations::activate(state, &merchant).await;
            eprintln!("{}", if r.is_ok() { "done" } else { "failed" });
            r
        }
        IntegrationCommand::Deactivate { merchant } => {
            integrations::deactivate(state, &merchant).await
        }
    };
    let view = view.map_err(describe)?;
    print_integration(&view);
    Ok(())
}
