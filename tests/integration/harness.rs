//! The shared test harness of the HTTP tests: [`TestHost`], a Premia server
//! on loopback built by [`TestHost::builder`] (the demo tenant, as a test
//! tenant or not, over a data directory of its own or a given one), and
//! [`ApiClient`], a JSON client of any Premia server (an in-process
//! [`TestHost`] or [`Server`], or a `premia serve` child process), with the
//! requests the tests share: posts with or without an idempotency key,
//! reads, plugin uploads with their rate tables, product variants, the test
//! tenant's clock.

use crate::backend::open_data_dir;
use crate::support::{http_client, wasm, workspace};
use premia::boot::{DemoFiles, load_demo_as};
use reqwest::blocking::{Body, Client, RequestBuilder};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// A server over an application state, on a free loopback port, until it
/// is dropped.
pub(crate) struct Server {
    address: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Serves the API over `state` on a free loopback port.
    pub(crate) fn serve(state: premia::api::AppState) -> Server {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let address = listener.local_addr().unwrap();
        let (shutdown, signal) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                axum::serve(listener, premia::api::router(state))
                    .with_graceful_shutdown(async {
                        let _ = signal.await;
                    })
                    .await
                    .unwrap();
            })
        });
        Server {
            address,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// A client of this server with API key `key`.
    pub(crate) fn client(&self, key: &str) -> ApiClient {
        ApiClient::new(self.url(""), key)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Where a [`TestHost`] keeps its data: a temporary directory of its own
/// (removed when the host is dropped), or one the test gave it.
enum DataDir {
    Owned(tempfile::TempDir),
    Given(PathBuf),
}

impl DataDir {
    fn path(&self) -> &Path {
        match self {
            DataDir::Owned(dir) => dir.path(),
            DataDir::Given(path) => path,
        }
    }
}

/// How to start a [`TestHost`]: see [`TestHost::builder`].
#[derive(Default)]
pub(crate) struct TestHostBuilder {
    demo: bool,
    test_tenant: bool,
    data: Option<PathBuf>,
}

impl TestHostBuilder {
    /// Loads the demo tenant (its plugins and products) and keeps its
    /// admin key; loading it again over the same data records nothing twice
    /// but issues a new key.
    pub(crate) fn demo(mut self) -> Self {
        self.demo = true;
        self
    }

    /// Loads the demo as a test tenant: a clock of its own, moved with
    /// `POST /v1/clock` ([`ApiClient::move_clock`]). Implies [`Self::demo`].
    pub(crate) fn test_tenant(mut self) -> Self {
        self.demo = true;
        self.test_tenant = true;
        self
    }

    /// Over the data directory `data` (which the test keeps, to start
    /// another host over it later) instead of a temporary one of its own.
    pub(crate) fn over(mut self, data: &Path) -> Self {
        self.data = Some(data.to_path_buf());
        self
    }

    pub(crate) fn start(self) -> TestHost {
        let data = match self.data {
            Some(path) => DataDir::Given(path),
            None => DataDir::Owned(tempfile::tempdir().unwrap()),
        };
        let state = open_data_dir(data.path()).unwrap();
        let key = self.demo.then(|| {
            let files = DemoFiles {
                wasm_dir: premia_tests::PLUGINS_WASM_DIR.into(),
                plugins_dir: workspace().join("plugins"),
            };
            load_demo_as(&state, &files, self.test_tenant).unwrap()
        });
        TestHost {
            server: Server::serve(state),
            key,
            data,
        }
    }
}

/// A Premia server on loopback over a data directory, with the demo
/// tenant's admin key when it loaded the demo.
pub(crate) struct TestHost {
    // Declared first: the server stops before its data directory goes.
    server: Server,
    key: Option<String>,
    data: DataDir,
}

impl TestHost {
    /// A builder: `TestHost::builder().demo().start()`,
    /// `TestHost::builder().test_tenant().start()`,
    /// `TestHost::builder().over(data.path()).start()`...
    pub(crate) fn builder() -> TestHostBuilder {
        TestHostBuilder::default()
    }

    /// The demo tenant over a data directory of its own.
    pub(crate) fn demo() -> TestHost {
        TestHost::builder().demo().start()
    }

    /// The demo as a test tenant over a data directory of its own.
    pub(crate) fn test_tenant() -> TestHost {
        TestHost::builder().test_tenant().start()
    }

    /// The demo tenant's admin key (panics when the demo was not loaded).
    pub(crate) fn key(&self) -> &str {
        self.key
            .as_deref()
            .expect("the demo was not loaded: no admin key")
    }

    /// A client as the demo's admin.
    pub(crate) fn admin(&self) -> ApiClient {
        self.client(self.key())
    }

    /// A client with API key `key`.
    pub(crate) fn client(&self, key: &str) -> ApiClient {
        self.server.client(key)
    }

    /// The server stopped and started again over the same data directory
    /// (the demo not loaded again); the admin key is kept.
    pub(crate) fn restart(self) -> TestHost {
        let TestHost { server, key, data } = self;
        drop(server);
        let state = open_data_dir(data.path()).unwrap();
        TestHost {
            server: Server::serve(state),
            key,
            data,
        }
    }
}

/// A JSON client of one Premia server: its base URL and the
/// `authorization` header of one API key.
#[derive(Clone)]
pub(crate) struct ApiClient {
    base: String,
    auth: String,
    http: Client,
}

impl ApiClient {
    /// A client of the server at `base` (`http://host:port`) with API key
    /// `key`.
    pub(crate) fn new(base: impl Into<String>, key: &str) -> ApiClient {
        ApiClient {
            base: base.into(),
            auth: format!("Bearer {key}"),
            http: http_client(),
        }
    }

    /// The same with another HTTP client (a timeout of its own...).
    pub(crate) fn with_http(self, http: Client) -> ApiClient {
        ApiClient { http, ..self }
    }

    /// The same server with API key `key`.
    pub(crate) fn with_key(&self, key: &str) -> ApiClient {
        ApiClient {
            auth: format!("Bearer {key}"),
            ..self.clone()
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request carrying the key, for what the JSON helpers do not cover
    /// (headers of the answer, raw text).
    pub(crate) fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, self.url(path))
            .header("authorization", &self.auth)
    }

    /// Sends `request`: its status and JSON body (`Null` when the body is
    /// not JSON); an error when the server could not be reached.
    pub(crate) fn try_send(&self, request: RequestBuilder) -> reqwest::Result<(StatusCode, Value)> {
        let response = request.send()?;
        let status = response.status();
        Ok((status, response.json().unwrap_or(Value::Null)))
    }

    /// Sends `request`: its status and JSON body (`Null` when the body is
    /// not JSON).
    pub(crate) fn send(&self, request: RequestBuilder) -> (StatusCode, Value) {
        self.try_send(request).unwrap()
    }

    /// `POST path` with a JSON body.
    pub(crate) fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.send(self.request(Method::POST, path).json(body))
    }

    /// `POST path` without a body.
    pub(crate) fn post_empty(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.request(Method::POST, path))
    }

    /// `POST path` with a JSON body and an idempotency key.
    pub(crate) fn post_with_idempotency(
        &self,
        path: &str,
        idempotency: &str,
        body: &Value,
    ) -> (StatusCode, Value) {
        self.send(
            self.request(Method::POST, path)
                .header("idempotency-key", idempotency)
                .json(body),
        )
    }

    /// `GET path`.
    pub(crate) fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.request(Method::GET, path))
    }

    /// `GET path`, which must succeed: its body.
    pub(crate) fn get_ok(&self, path: &str) -> Value {
        let (status, body) = self.get(path);
        assert!(status.is_success(), "GET {path}: {status} {body}");
        body
    }

    /// `PUT path` with a text (or bytes) body, as rate tables are put.
    pub(crate) fn put_text(&self, path: &str, body: impl Into<Body>) -> (StatusCode, Value) {
        self.send(self.request(Method::PUT, path).body(body))
    }

    /// Uploads the compiled plugin or fixture `crate_name` as
    /// `name@version`.
    pub(crate) fn upload_wasm(
        &self,
        name: &str,
        version: &str,
        crate_name: &str,
    ) -> (StatusCode, Value) {
        self.send(
            self.request(
                Method::POST,
                &format!("/v1/plugins?name={name}&version={version}"),
            )
            .header("content-type", "application/wasm")
            .body(wasm(crate_name)),
        )
    }

    /// Puts rate table `table` of plugin `name@version`, which must be
    /// accepted.
    pub(crate) fn put_table(&self, name: &str, version: &str, table: &str, csv: impl Into<Body>) {
        let (status, body) =
            self.put_text(&format!("/v1/plugins/{name}/{version}/tables/{table}"), csv);
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// Moves the test tenant's clock to `day`, which must be accepted.
    pub(crate) fn move_clock(&self, day: &str) {
        let (status, body) = self.post("/v1/clock", &json!({"today": day}));
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// The deployed product `name`, as `GET /v1/products` lists it.
    pub(crate) fn product(&self, name: &str) -> Value {
        let (status, products) = self.get("/v1/products");
        assert_eq!(status, StatusCode::OK, "{products}");
        products
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no product {name}: {products}"))
            .clone()
    }

    /// Deploys a copy of product `base` named `name`, changed by `change`:
    /// the status and body of the deployment.
    pub(crate) fn deploy_product_variant(
        &self,
        base: &str,
        name: &str,
        change: impl FnOnce(&mut Value),
    ) -> (StatusCode, Value) {
        let mut product = self.product(base);
        product["name"] = json!(name);
        change(&mut product);
        self.post("/v1/products", &product)
    }

    /// Deploys a copy of the demo's auto product named `name`, rated by
    /// `rating`; it must be accepted.
    pub(crate) fn deploy_auto_variant(&self, name: &str, rating: Value) {
        let (status, body) =
            self.deploy_product_variant("auto", name, |product| product["rating"] = rating);
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    /// Uploads the auto rater as `name@version` with its tables, the
    /// territory factor for urban risks replaced by `urban_factor`: the
    /// upload's answer.
    pub(crate) fn upload_auto_rater(&self, name: &str, version: &str, urban_factor: &str) -> Value {
        let (status, uploaded) = self.upload_wasm(name, version, "auto-rater");
        assert_eq!(status, StatusCode::CREATED, "{uploaded}");
        for table in AUTO_RATER_TABLES {
            let mut csv = auto_rater_table(table);
            if table == "territory" {
                csv = csv.replace("urban,1.25", &format!("urban,{urban_factor}"));
            }
            self.put_table(name, version, table, csv);
        }
        uploaded
    }

    /// The versions of plugin `name` the server lists as active.
    pub(crate) fn active_versions(&self, name: &str) -> Vec<String> {
        let (_, listed) = self.get("/v1/plugins");
        listed
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["name"] == name && p["active"] == true)
            .map(|p| p["version"].as_str().unwrap().to_string())
            .collect()
    }

    /// Opens account `locator` (Ada, USD): the status and body.
    pub(crate) fn open_account(&self, locator: &str) -> (StatusCode, Value) {
        self.post(
            "/v1/accounts",
            &json!({"locator": locator, "name": "Ada", "currency": "USD"}),
        )
    }
}

/// A Socotra-style external rater on loopback: each peril's yearly premium
/// is its `yearly_premium` field; a policy field `decline` answers with
/// `exceptionMessage`; `slow` sleeps past any sane timeout. Every request must
/// carry the registered credential.
pub(crate) fn socotra_rater() -> (SocketAddr, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use axum::http::HeaderMap;
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = std::sync::Arc::clone(&calls);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let address = listener.local_addr().unwrap();
    let app = axum::Router::new().route(
        "/rate",
        axum::routing::post(move |headers: HeaderMap, axum::Json(request): axum::Json<Value>| {
            let seen = std::sync::Arc::clone(&seen);
            async move {
                seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                assert_eq!(headers["authorization"], "Basic c2VjcmV0LXRva2Vu");
                let policy_fields = &request["policy"]["characteristics"][0]["fieldValues"];
                if policy_fields.get("slow").is_some() {
                    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
                }
                if let Some(reason) = policy_fields.get("decline") {
                    return axum::Json(json!({"pricedPerilCharacteristics": {}, "exceptionMessage": reason[0]}));
                }
                let mut priced = serde_json::Map::new();
                for exposure in request["policy"]["exposures"].as_array().unwrap() {
                    for peril in exposure["perils"].as_array().unwrap() {
                        let characteristics = &peril["characteristics"][0];
                        let yearly = &characteristics["fieldValues"]["yearly_premium"][0];
                        priced.insert(characteristics["locator"].as_str().unwrap().to_string(), json!({"premium": yearly}));
                    }
                }
                axum::Json(json!({"pricedPerilCharacteristics": priced}))
            }
        }),
    );
    std::thread::spawn(move || {
        runtime.block_on(async move { axum::serve(listener, app).await.unwrap() })
    });
    (address, calls)
}

/// The rate tables of the auto rater.
pub(crate) const AUTO_RATER_TABLES: [&str; 4] =
    ["base-rates", "territory", "driver-age", "deductible"];

/// The CSV of the auto rater's rate table `table`.
pub(crate) fn auto_rater_table(table: &str) -> String {
    std::fs::read_to_string(workspace().join(format!("plugins/auto-rater/tables/{table}.csv")))
        .unwrap()
}

/// A policy of the demo's auto product on account A-1: an urban sedan with
/// bodily injury, collision and comprehensive, from 2026-01-01.
pub(crate) fn auto_policy(locator: &str) -> Value {
    json!({
        "locator": locator, "account": "A-1", "product": "auto", "start": "2026-01-01", "time_zone": "America/New_York",
        "data": {"fields": {"territory": ["urban"], "producer": ["agency-7"]},
                 "exposures": {"V1": {"name": "vehicle", "fields": {"vehicle_class": ["sedan"], "driver_age": [30]},
                                      "perils": {"V1-BI": {"name": "bodily_injury"},
                                                 "V1-COLL": {"name": "collision", "fields": {"deductible": [500]}},
                                                 "V1-COMP": {"name": "comprehensive", "fields": {"deductible": [500]}}}}}}
    })
}

/// The premium amounts among the charges of a committed effect, sorted.
pub(crate) fn premiums(effect: &Value) -> Vec<String> {
    let mut amounts: Vec<String> = effect["charges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["charge"] == "premium")
        .map(|c| c["amount"]["amount"].as_str().unwrap().to_string())
        .collect();
    amounts.sort();
    amounts
}

/// The premium lines of a quote, summed (the policy fee and commissions
/// aside).
pub(crate) fn quoted_premium(quote: &Value) -> String {
    quote["lines"]
        .as_array()
        .unwrap_or_else(|| panic!("{quote}"))
        .iter()
        .filter(|l| l["charge"] == "premium")
        .map(|l| {
            l["amount"]
                .as_str()
                .unwrap()
                .parse::<rust_decimal::Decimal>()
                .unwrap()
        })
        .sum::<rust_decimal::Decimal>()
        .to_string()
}

/// Every event of the feed, page after page.
pub(crate) fn feed(client: &ApiClient) -> Vec<Value> {
    let mut events = Vec::new();
    let mut after = 0;
    loop {
        let page = client.get_ok(&format!("/v1/events?after={after}&limit=1000"));
        events.extend(page["data"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_u64() {
            Some(next) => after = next,
            None => break,
        }
    }
    events
}
