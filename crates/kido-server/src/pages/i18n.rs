//! The hosted pages' words in English, Japanese and Traditional Chinese, and how a
//! language is chosen: `ui_locales`, then `Accept-Language`, then the tenant's fallback.

use kido_proto::sign_in_experience::SignInExperience;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Ja,
    ZhTw,
}

impl Lang {
    pub fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Ja => "ja",
            Self::ZhTw => "zh-TW",
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Self::En => &EN,
            Self::Ja => &JA,
            Self::ZhTw => &ZH_TW,
        }
    }

    fn parse(tag: &str) -> Option<Self> {
        let tag = tag.trim().to_ascii_lowercase();
        let primary = tag.split(['-', '_']).next().unwrap_or_default();
        match primary {
            "en" => Some(Self::En),
            "ja" => Some(Self::Ja),
            "zh" if tag.contains("tw") || tag.contains("hant") || tag.contains("hk") || tag.contains("mo") => {
                Some(Self::ZhTw)
            }
            _ => None,
        }
    }

    /// The first language Kido speaks from `ui_locales` (space-separated), then from
    /// `Accept-Language` (when the tenant auto-detects), else the tenant's fallback.
    pub fn pick(ui_locales: Option<&str>, accept_language: Option<&str>, sie: &SignInExperience) -> Self {
        let from_ui = ui_locales.into_iter().flat_map(|l| l.split(' ')).find_map(Self::parse);
        let from_browser = || {
            sie.language_info
                .auto_detect
                .then(|| {
                    accept_language
                        .into_iter()
                        .flat_map(|a| a.split(','))
                        .find_map(|p| Self::parse(p.split(';').next().unwrap_or_default()))
                })
                .flatten()
        };
        from_ui.or_else(from_browser).or_else(|| Self::parse(&sie.language_info.fallback_language)).unwrap_or(Self::En)
    }
}

pub struct Texts {
    pub sign_in_title: &'static str,
    pub register_title: &'static str,
    pub username: &'static str,
    pub email: &'static str,
    pub phone: &'static str,
    pub or: &'static str,
    pub password: &'static str,
    pub confirm_password: &'static str,
    pub sign_in_button: &'static str,
    pub register_button: &'static str,
    pub no_account: &'static str,
    pub create_account: &'static str,
    pub have_account: &'static str,
    pub agree_manual: &'static str,
    pub agree_automatic: &'static str,
    pub terms: &'static str,
    pub privacy: &'static str,
    pub and: &'static str,
    pub passwords_mismatch: &'static str,
    pub error_title: &'static str,
    pub session_lost: &'static str,
    pub request_invalid: &'static str,
    pub forbidden_form: &'static str,
    pub logout_title: &'static str,
    pub logout_question: &'static str,
    pub logout_button: &'static str,
    pub signed_out: &'static str,
    pub invalid_credentials: &'static str,
    pub suspended: &'static str,
    pub method_disabled: &'static str,
    pub mode_forbidden: &'static str,
    pub username_in_use: &'static str,
    pub username_invalid: &'static str,
    pub password_rejected: &'static str,
    pub blocked: &'static str,
    pub terms_not_agreed: &'static str,
    pub missing_profile: &'static str,
    pub generic_error: &'static str,
}

pub static EN: Texts = Texts {
    sign_in_title: "Sign in",
    register_title: "Create account",
    username: "Username",
    email: "Email",
    phone: "Phone number",
    or: " or ",
    password: "Password",
    confirm_password: "Confirm password",
    sign_in_button: "Sign in",
    register_button: "Create account",
    no_account: "No account yet?",
    create_account: "Create one",
    have_account: "Already have an account?",
    agree_manual: "I have read and agree to the",
    agree_automatic: "By continuing, you agree to the",
    terms: "Terms of use",
    privacy: "Privacy policy",
    and: "and",
    passwords_mismatch: "The passwords do not match.",
    error_title: "Something went wrong",
    session_lost: "This sign-in session has expired or was not found. Go back to the application and sign in again.",
    request_invalid: "The application sent an invalid sign-in request.",
    forbidden_form: "This form has expired. Reload the page and try again.",
    logout_title: "Sign out",
    logout_question: "Do you want to sign out?",
    logout_button: "Sign out",
    signed_out: "You have signed out.",
    invalid_credentials: "Incorrect account or password. Please check your input.",
    suspended: "This account is suspended.",
    method_disabled: "This sign-in method is not enabled.",
    mode_forbidden: "This is not available here.",
    username_in_use: "This username is already in use.",
    username_invalid: "A username starts with a letter or underscore and contains only letters, digits and underscores.",
    password_rejected: "This password does not meet the requirements. Choose a longer, less common one.",
    blocked: "Too many failed attempts. Please try again later.",
    terms_not_agreed: "Please agree to the terms of use and privacy policy to continue.",
    missing_profile: "Registration needs information this page cannot collect yet.",
    generic_error: "Something went wrong. Please try again.",
};

pub static JA: Texts = Texts {
    sign_in_title: "サインイン",
    register_title: "アカウント作成",
    username: "ユーザー名",
    email: "メールアドレス",
    phone: "電話番号",
    or: "または",
    password: "パスワード",
    confirm_password: "パスワード（確認）",
    sign_in_button: "サインイン",
    register_button: "アカウントを作成",
    no_account: "アカウントをお持ちでないですか？",
    create_account: "作成する",
    have_account: "すでにアカウントをお持ちですか？",
    agree_manual: "次に同意します：",
    agree_automatic: "続行すると、次に同意したことになります：",
    terms: "利用規約",
    privacy: "プライバシーポリシー",
    and: "および",
    passwords_mismatch: "パスワードが一致しません。",
    error_title: "問題が発生しました",
    session_lost: "このサインインセッションは期限切れか、見つかりません。アプリに戻って、もう一度サインインしてください。",
    request_invalid: "アプリから無効なサインイン要求が送信されました。",
    forbidden_form: "このフォームは期限切れです。ページを再読み込みして、もう一度お試しください。",
    logout_title: "サインアウト",
    logout_question: "サインアウトしますか？",
    logout_button: "サインアウト",
    signed_out: "サインアウトしました。",
    invalid_credentials: "アカウントまたはパスワードが正しくありません。入力内容を確認してください。",
    suspended: "このアカウントは停止されています。",
    method_disabled: "このサインイン方法は有効になっていません。",
    mode_forbidden: "この操作はここでは利用できません。",
    username_in_use: "このユーザー名はすでに使用されています。",
    username_invalid: "ユーザー名は英字またはアンダースコアで始まり、英数字とアンダースコアのみ使用できます。",
    password_rejected: "このパスワードは要件を満たしていません。より長く、推測されにくいものを選んでください。",
    blocked: "試行回数が多すぎます。しばらくしてから、もう一度お試しください。",
    terms_not_agreed: "続行するには、利用規約とプライバシーポリシーに同意してください。",
    missing_profile: "登録には、このページではまだ入力できない情報が必要です。",
    generic_error: "問題が発生しました。もう一度お試しください。",
};

pub static ZH_TW: Texts = Texts {
    sign_in_title: "登入",
    register_title: "建立帳號",
    username: "使用者名稱",
    email: "電子郵件",
    phone: "電話號碼",
    or: "或",
    password: "密碼",
    confirm_password: "確認密碼",
    sign_in_button: "登入",
    register_button: "建立帳號",
    no_account: "還沒有帳號？",
    create_account: "立即建立",
    have_account: "已經有帳號了？",
    agree_manual: "我已閱讀並同意",
    agree_automatic: "繼續即表示你同意",
    terms: "使用條款",
    privacy: "隱私權政策",
    and: "及",
    passwords_mismatch: "兩次輸入的密碼不一致。",
    error_title: "發生錯誤",
    session_lost: "此登入工作階段已過期或不存在。請回到應用程式重新登入。",
    request_invalid: "應用程式送出了無效的登入請求。",
    forbidden_form: "此表單已過期。請重新整理頁面後再試一次。",
    logout_title: "登出",
    logout_question: "確定要登出嗎？",
    logout_button: "登出",
    signed_out: "你已登出。",
    invalid_credentials: "帳號或密碼不正確，請檢查你的輸入。",
    suspended: "此帳號已被停用。",
    method_disabled: "此登入方式未啟用。",
    mode_forbidden: "此處無法使用這項操作。",
    username_in_use: "此使用者名稱已被使用。",
    username_invalid: "使用者名稱須以英文字母或底線開頭，且只能包含英數字與底線。",
    password_rejected: "此密碼不符合要求，請選擇更長、更不常見的密碼。",
    blocked: "嘗試次數過多，請稍後再試。",
    terms_not_agreed: "請同意使用條款及隱私權政策以繼續。",
    missing_profile: "註冊需要此頁面目前無法收集的資訊。",
    generic_error: "發生錯誤，請再試一次。",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_in_order() {
        let mut sie = SignInExperience::default_for("default");
        assert_eq!(Lang::pick(Some("fr ja"), Some("zh-TW"), &sie), Lang::Ja);
        assert_eq!(Lang::pick(None, Some("de, zh-Hant-TW;q=0.8, en"), &sie), Lang::ZhTw);
        assert_eq!(Lang::pick(None, Some("zh-CN"), &sie), Lang::En);
        sie.language_info.auto_detect = false;
        sie.language_info.fallback_language = "ja".into();
        assert_eq!(Lang::pick(None, Some("en"), &sie), Lang::Ja);
    }
}
