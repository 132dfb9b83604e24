//! The cost of one JWT signature (Ed25519, `jsonwebtoken`), beside the cost of building the
//! claims' JSON alone, so the figure is read as a ratio on the same machine and run.

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use server::jwt::{Claims, Signer, generate};

fn claims() -> Claims {
    Claims {
        iss: "https://auth.example.com".into(),
        sub: "42".into(),
        aud: "https://auth.example.com".into(),
        exp: 1_800_000_300,
        iat: 1_800_000_000,
        jti: "6f1c0e2b9d5a4c3e8f7a6b5c4d3e2f1a".into(),
        client_id: "web".into(),
        sid: "5f0c8a4e-8f0e-4f5b-9a57-1f2d3c4b5a69".into(),
        username: "alice".into(),
        auth_time: 1_799_999_000,
        scope: None,
    }
}

fn bench(c: &mut Criterion) {
    let pair = generate();
    let signer = Signer::from_seed(&pair.kid, &pair.seed).expect("a fresh key");
    let claims = claims();
    let mut group = c.benchmark_group("jwt");
    group.bench_function("claims_json_only", |b| {
        b.iter(|| serde_json::to_vec(black_box(&claims)).expect("json"))
    });
    group.bench_function("sign", |b| {
        b.iter(|| signer.sign(black_box(&claims)).expect("signed"))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
