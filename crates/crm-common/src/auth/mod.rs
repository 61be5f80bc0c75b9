//! Identity: EdDSA JWTs verified locally against foundation's JWKS, and the extractors that give a
//! handler its caller. A handler that takes [`Authorized<P>`] cannot run without a valid token and
//! permission `P`.

mod eddsa;
mod jwt;
mod keys;
mod principal;
pub mod remote;

pub use jwt::{Claims, JwtError, Signer, TokenType, Verifier, VerifierSettings};
pub use keys::{Jwk, Jwks, KeySet, KeySource, key_id};
pub use principal::{
    AuthContext, Authorized, CurrentUser, HasAuth, Permission, PermissionResolver, Principal, ResolveFuture,
    bearer_token, has_permission,
};

/// Declares permission marker types: `permissions! { UserCreate => "user.create" }`.
#[macro_export]
macro_rules! permissions {
    ($($(#[$meta:meta])* $name:ident => $code:literal),* $(,)?) => {
        $(
            $(#[$meta])*
            #[derive(Debug, Clone, Copy)]
            pub struct $name;
            impl $crate::auth::Permission for $name {
                const CODE: &'static str = $code;
            }
        )*
    };
}
