//! `/api/logs`: the audit log, read side.

use axum::extract::State;
use axum::response::Response;
use kido_proto::logs::Log;
use kido_proto::logs::LogFilter;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::errors::ApiError;
use crate::extract::{ApiPath, ManagementScope, QueryPairs};
use crate::openapi::{ErrorResponses, PageParams};
use crate::pagination::Listing;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_logs)).routes(routes!(get_log))
}

#[allow(dead_code)] // Only read by the OpenAPI derive.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct LogListParams {
    /// Only entries about this user.
    #[param(rename = "userId")]
    user_id: Option<String>,
    /// Only entries about this application.
    #[param(rename = "applicationId")]
    application_id: Option<String>,
    /// Only entries with this key (e.g. `User.Created`); repeat or comma-separate for several.
    #[param(rename = "logKey")]
    log_key: Option<String>,
    /// From this time on (epoch milliseconds, inclusive).
    start_time: Option<i64>,
    /// Before this time (epoch milliseconds).
    end_time: Option<i64>,
}

fn log_filter(q: &QueryPairs) -> Result<LogFilter, ApiError> {
    let time = |key: &str| -> Result<Option<i64>, ApiError> {
        q.get(key)
            .filter(|v| !v.is_empty())
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| ApiError::invalid_input("query", format!("`{key}` must be epoch milliseconds")))
            })
            .transpose()
    };
    let (start, end) = (time("start_time")?, time("end_time")?);
    if let (Some(start), Some(end)) = (start, end)
        && start > end
    {
        return Err(ApiError::invalid_input("query", "`start_time` must not be after `end_time`"));
    }
    Ok(LogFilter {
        user_id: q.text("userId"),
        application_id: q.text("applicationId"),
        keys: q.all("logKey").flat_map(|v| v.split(',')).filter(|k| !k.is_empty()).map(str::to_owned).collect(),
        start,
        end,
    })
}

/// List audit log entries, newest first.
#[utoipa::path(get, path = "/api/logs", operation_id = "ListLogs", tag = "Audit logs",
    params(LogListParams, PageParams),
    responses((status = 200, body = [Log], description = "Log entries."), ErrorResponses))]
async fn list_logs(State(app): State<AppState>, _: ManagementScope, listing: Listing) -> Result<Response, ApiError> {
    let pagination = listing.pagination()?;
    let filter = log_filter(&listing.query)?;
    let (logs, total) = app.core.logs().list(app.tenant.id(), &filter, pagination.to_page()).await?;
    Ok(listing.respond(Some(pagination), logs, total))
}

/// Get one audit log entry.
#[utoipa::path(get, path = "/api/logs/{id}", operation_id = "GetLog", tag = "Audit logs",
    params(("id" = String, Path, description = "Log id.")),
    responses((status = 200, body = Log, description = "The entry."), ErrorResponses))]
async fn get_log(
    State(app): State<AppState>,
    _: ManagementScope,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::Json<Log>, ApiError> {
    app.core
        .logs()
        .get(app.tenant.id(), &id)
        .await?
        .map(axum::Json)
        .ok_or_else(|| ApiError::not_exists_with_id("logs", &id))
}
