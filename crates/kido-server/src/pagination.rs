//! Logto's list conventions: `page` (1-based) and `page_size` (default 20, max 100),
//! answered with `Total-Number` and `Link` headers; optional on some routes, where no
//! parameters means the whole list without headers.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use kido_proto::Page;
use serde::Serialize;

use crate::errors::ApiError;
use crate::extract::QueryPairs;
use crate::state::AppState;

const DEFAULT_PAGE_SIZE: i64 = 20;
const MAX_PAGE_SIZE: i64 = 100;

#[derive(Debug, Clone, Copy)]
pub struct Pagination {
    pub page: i64,
    pub page_size: i64,
}

impl Pagination {
    pub fn to_page(self) -> Page {
        Page { limit: self.page_size, offset: (self.page - 1) * self.page_size }
    }
}

/// A list request: its query, and what is needed to write `Link` headers.
pub struct Listing {
    pub query: QueryPairs,
    /// `{endpoint origin}{request path}`.
    base: String,
}

impl<S> FromRequestParts<S> for Listing
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let app = AppState::from_ref(state);
        let query = QueryPairs::from_request_parts(parts, state).await?;
        let base = format!("{}{}", app.tenant.origin, parts.uri.path());
        Ok(Listing { query, base })
    }
}

fn invalid_pagination() -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "guard.invalid_pagination", "The request pagination value is invalid.")
}

impl Listing {
    /// Paginated route: defaults apply when the parameters are absent.
    pub fn pagination(&self) -> Result<Pagination, ApiError> {
        let number = |key: &str, default: i64| -> Result<i64, ApiError> {
            if self.query.all(key).count() > 1 {
                return Err(invalid_pagination());
            }
            match self.query.get(key) {
                None => Ok(default),
                Some(v) => v.parse::<i64>().ok().filter(|n| *n >= 1).ok_or_else(invalid_pagination),
            }
        };
        let page = number("page", 1)?;
        let page_size = number("page_size", DEFAULT_PAGE_SIZE)?;
        if page_size > MAX_PAGE_SIZE || page > i64::MAX / MAX_PAGE_SIZE {
            return Err(invalid_pagination());
        }
        Ok(Pagination { page, page_size })
    }

    /// Optionally paginated route: `None` (the whole list) unless `page` or `page_size` is given.
    pub fn optional_pagination(&self) -> Result<Option<Pagination>, ApiError> {
        let given = |key: &str| self.query.get(key).is_some();
        if given("page") || given("page_size") { self.pagination().map(Some) } else { Ok(None) }
    }

    /// The JSON list, with `Total-Number` and `Link` when paginated.
    pub fn respond<T: Serialize>(&self, pagination: Option<Pagination>, items: Vec<T>, total: i64) -> Response {
        let mut response = axum::Json(items).into_response();
        if let Some(p) = pagination {
            self.write_headers(response.headers_mut(), p, total);
        }
        response
    }

    fn write_headers(&self, headers: &mut HeaderMap, p: Pagination, total: i64) {
        if let Ok(v) = HeaderValue::from_str(&total.to_string()) {
            headers.insert("Total-Number", v);
        }
        let last = ((total + p.page_size - 1) / p.page_size).max(1);
        let mut links = vec![("first", 1), ("last", last)];
        if p.page > 1 {
            links.push(("prev", p.page - 1));
        }
        if p.page < last {
            links.push(("next", p.page + 1));
        }
        for (rel, page) in links {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in self.query.0.iter().filter(|(k, _)| k != "page") {
                query.append_pair(k, v);
            }
            query.append_pair("page", &page.to_string());
            if let Ok(v) = HeaderValue::from_str(&format!("<{}?{}>; rel=\"{rel}\"", self.base, query.finish())) {
                headers.append("Link", v);
            }
        }
    }
}

/// 201 with an empty body (`Content-Length: 0`, which SDKs treat as "no content").
pub fn created() -> Response {
    StatusCode::CREATED.into_response()
}
