//! A typed client of the Management API (Kido's or Logto's), authenticating as a
//! machine-to-machine application with client_credentials and renewing its token a
//! minute before it expires.

use std::time::{Duration, Instant};

use kido_proto::ErrorBody;
use kido_proto::applications::{Application, ApplicationSecret, CreateApplication};
use kido_proto::oauth::TokenResponse;
use kido_proto::resources::{CreateResource, CreateScope, ResourceWithScopes, Scope};
use kido_proto::roles::{CreateRole, Role};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use thiserror::Error;
use tokio::sync::Mutex;

#[derive(Debug, Error)]
pub enum ClientError {
    #[error("HTTP error: {0}")]
    Http(#[from] reqwest::Error),
    #[error("token request failed with {status}: {body}")]
    Token { status: StatusCode, body: String },
    #[error("API error {status}: {} ({})", .body.code, .body.message)]
    Api { status: StatusCode, body: ErrorBody },
    #[error("unexpected response {status}: {body}")]
    Unexpected { status: StatusCode, body: String },
}

impl ClientError {
    /// The Logto error code, when the server answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api { body, .. } => Some(&body.code),
            _ => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, ClientError>;

/// How to reach and authenticate to a Management API.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// e.g. `http://localhost:3001`
    pub endpoint: String,
    pub client_id: String,
    pub client_secret: String,
    /// e.g. `https://default.logto.app/api`
    pub resource: String,
}

pub struct ManagementClient {
    http: reqwest::Client,
    config: ClientConfig,
    token: Mutex<Option<(String, Instant)>>,
}

/// A raw answer, for callers that check statuses and headers themselves.
#[derive(Debug)]
pub struct RawResponse {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl ManagementClient {
    pub fn new(config: ClientConfig) -> Self {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap_or_default();
        Self {
            http,
            config: ClientConfig { endpoint: config.endpoint.trim_end_matches('/').to_owned(), ..config },
            token: Mutex::new(None),
        }
    }

    /// A valid access token, fetched again when less than a minute is left.
    pub async fn access_token(&self) -> Result<String> {
        let mut cached = self.token.lock().await;
        if let Some((token, until)) = cached.as_ref()
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let response = self
            .http
            .post(format!("{}/oidc/token", self.config.endpoint))
            .basic_auth(&self.config.client_id, Some(&self.config.client_secret))
            .form(&[("grant_type", "client_credentials"), ("resource", &self.config.resource), ("scope", "all")])
            .send()
            .await?;
        let status = response.status();
        if !status.is_success() {
            return Err(ClientError::Token { status, body: response.text().await.unwrap_or_default() });
        }
        let token: TokenResponse = response.json().await?;
        let lifetime = Duration::from_secs(token.expires_in.saturating_sub(60));
        *cached = Some((token.access_token.clone(), Instant::now() + lifetime));
        Ok(token.access_token)
    }

    /// Any request; the body is JSON (or `Null` when empty).
    pub async fn raw(&self, method: Method, path: &str, body: Option<&Value>) -> Result<RawResponse> {
        let token = self.access_token().await?;
        let mut request = self.http.request(method, format!("{}{path}", self.config.endpoint)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await?;
        let body =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        Ok(RawResponse { status, headers, body })
    }

    async fn call<B: Serialize, T: DeserializeOwned>(&self, method: Method, path: &str, body: Option<&B>) -> Result<T> {
        let body = body.map(|b| serde_json::to_value(b).unwrap_or(Value::Null));
        let response = self.raw(method, path, body.as_ref()).await?;
        if !response.status.is_success() {
            return Err(match serde_json::from_value::<ErrorBody>(response.body.clone()) {
                Ok(body) => ClientError::Api { status: response.status, body },
                Err(_) => ClientError::Unexpected { status: response.status, body: response.body.to_string() },
            });
        }
        let body = if response.body.is_null() { json!(null) } else { response.body };
        serde_json::from_value(body.clone())
            .map_err(|_| ClientError::Unexpected { status: response.status, body: body.to_string() })
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.call::<(), T>(Method::GET, path, None).await
    }

    pub async fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn patch<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        self.call(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Result<()> {
        self.call::<(), Value>(Method::DELETE, path, None).await.map(|_| ())
    }

    // --- typed helpers -----------------------------------------------------------------

    pub async fn create_application(&self, input: &CreateApplication) -> Result<Application> {
        self.post("/api/applications", input).await
    }

    pub async fn application_secrets(&self, app_id: &str) -> Result<Vec<ApplicationSecret>> {
        self.get(&format!("/api/applications/{app_id}/secrets")).await
    }

    pub async fn create_resource(&self, input: &CreateResource) -> Result<ResourceWithScopes> {
        self.post("/api/resources", input).await
    }

    pub async fn create_scope(&self, resource_id: &str, input: &CreateScope) -> Result<Scope> {
        self.post(&format!("/api/resources/{resource_id}/scopes"), input).await
    }

    pub async fn create_role(&self, input: &CreateRole) -> Result<Role> {
        self.post("/api/roles", input).await
    }

    pub async fn assign_application_roles(&self, app_id: &str, role_ids: &[String]) -> Result<Value> {
        self.post(&format!("/api/applications/{app_id}/roles"), &json!({"roleIds": role_ids})).await
    }
}
