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
    pub code_sign_in: &'static str,
    pub forgot_password: &'static str,
    pub code_title: &'static str,
    pub code_sent_to: &'static str,
    pub code_label: &'static str,
    pub continue_button: &'static str,
    pub send_code_button: &'static str,
    pub resend: &'static str,
    pub email_or_phone: &'static str,
    pub forgot_title: &'static str,
    pub forgot_intro: &'static str,
    pub new_password: &'static str,
    pub reset_button: &'static str,
    pub password_changed_title: &'static str,
    pub password_changed: &'static str,
    pub complete_profile_title: &'static str,
    pub code_wrong: &'static str,
    pub code_expired: &'static str,
    pub too_many_codes: &'static str,
    pub rate_limited: &'static str,
    pub identifier_in_use: &'static str,
    pub invalid_identifier: &'static str,
    pub delivery_failed: &'static str,
    pub same_password: &'static str,
    pub back_to_sign_in: &'static str,
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
    code_sign_in: "Sign in with a verification code",
    forgot_password: "Forgot your password?",
    code_title: "Enter the verification code",
    code_sent_to: "We sent a 6-digit code to",
    code_label: "Verification code",
    continue_button: "Continue",
    send_code_button: "Send code",
    resend: "Send a new code",
    email_or_phone: "Email or phone number",
    forgot_title: "Reset your password",
    forgot_intro: "Enter the email or phone number of your account. If an account exists, we send it a code.",
    new_password: "New password",
    reset_button: "Reset password",
    password_changed_title: "Password changed",
    password_changed: "Your password has been changed and you have been signed out everywhere. Sign in with your new password.",
    complete_profile_title: "Complete your account",
    code_wrong: "The code is wrong. Check it and try again.",
    code_expired: "This code has expired or was replaced by a newer one. Send a new code.",
    too_many_codes: "Too many wrong codes. Send a new code.",
    rate_limited: "Too many codes were sent. Please try again later.",
    identifier_in_use: "An account with this email or phone number already exists.",
    invalid_identifier: "Enter a valid email address or phone number.",
    delivery_failed: "The code could not be sent. Please try again later.",
    same_password: "The new password must differ from the old one.",
    back_to_sign_in: "Back to sign-in",
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
    code_sign_in: "確認コードでサインイン",
    forgot_password: "パスワードをお忘れですか？",
    code_title: "確認コードを入力",
    code_sent_to: "6 桁のコードを送信しました：",
    code_label: "確認コード",
    continue_button: "続行",
    send_code_button: "コードを送信",
    resend: "新しいコードを送信",
    email_or_phone: "メールアドレスまたは電話番号",
    forgot_title: "パスワードをリセット",
    forgot_intro: "アカウントのメールアドレスまたは電話番号を入力してください。アカウントが存在する場合、コードを送信します。",
    new_password: "新しいパスワード",
    reset_button: "パスワードをリセット",
    password_changed_title: "パスワードを変更しました",
    password_changed: "パスワードを変更し、すべての端末からサインアウトしました。新しいパスワードでサインインしてください。",
    complete_profile_title: "アカウント情報の入力",
    code_wrong: "コードが正しくありません。確認して、もう一度お試しください。",
    code_expired: "このコードは期限切れか、新しいコードに置き換えられました。新しいコードを送信してください。",
    too_many_codes: "誤ったコードの入力が多すぎます。新しいコードを送信してください。",
    rate_limited: "コードの送信回数が多すぎます。しばらくしてから、もう一度お試しください。",
    identifier_in_use: "このメールアドレスまたは電話番号のアカウントはすでに存在します。",
    invalid_identifier: "有効なメールアドレスまたは電話番号を入力してください。",
    delivery_failed: "コードを送信できませんでした。しばらくしてから、もう一度お試しください。",
    same_password: "新しいパスワードは以前のものと異なる必要があります。",
    back_to_sign_in: "サインインに戻る",
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
    code_sign_in: "使用驗證碼登入",
    forgot_password: "忘記密碼？",
    code_title: "輸入驗證碼",
    code_sent_to: "我們已將 6 位數驗證碼傳送至",
    code_label: "驗證碼",
    continue_button: "繼續",
    send_code_button: "傳送驗證碼",
    resend: "重新傳送驗證碼",
    email_or_phone: "電子郵件或電話號碼",
    forgot_title: "重設密碼",
    forgot_intro: "請輸入帳號的電子郵件或電話號碼。若帳號存在，我們會傳送驗證碼。",
    new_password: "新密碼",
    reset_button: "重設密碼",
    password_changed_title: "密碼已變更",
    password_changed: "你的密碼已變更，所有裝置皆已登出。請使用新密碼登入。",
    complete_profile_title: "完成帳號設定",
    code_wrong: "驗證碼錯誤，請確認後再試一次。",
    code_expired: "此驗證碼已過期或已被新的驗證碼取代，請重新傳送。",
    too_many_codes: "錯誤次數過多，請重新傳送驗證碼。",
    rate_limited: "驗證碼傳送次數過多，請稍後再試。",
    identifier_in_use: "此電子郵件或電話號碼已有帳號。",
    invalid_identifier: "請輸入有效的電子郵件或電話號碼。",
    delivery_failed: "無法傳送驗證碼，請稍後再試。",
    same_password: "新密碼不能與舊密碼相同。",
    back_to_sign_in: "返回登入",
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
