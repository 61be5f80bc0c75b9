use crate::helpers::TestGateway;
use crate::upstream::TestUpstream;

const TRACE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

#[tokio::test]
async fn request_id_and_traceparent_travel_both_ways() {
    let up = TestUpstream::start("order-workflow").await;
    let gw = TestGateway::spawn(&[("order-workflow", up.url())], |_| {}).await;
    let bearer = format!("Bearer {}", gw.token());
    let path = "/api/order-workflow/orders";

    // Well-formed values from the client are kept, sent upstream and returned.
    let r = gw
        .client
        .get_with(path, &[("authorization", &bearer), ("x-request-id", "client-id-123"), ("traceparent", TRACE)])
        .await;
    let echo = r.echo();
    assert_eq!(echo["headers"]["x-request-id"], "client-id-123");
    assert_eq!(echo["headers"]["traceparent"], TRACE);
    assert_eq!(r.header("x-request-id"), Some("client-id-123"));
    assert_eq!(r.header("traceparent"), Some(TRACE));

    // Absent or malformed values are replaced by fresh ones, the same upstream and back.
    let long = "x".repeat(300);
    for headers in [vec![], vec![("x-request-id", long.as_str()), ("traceparent", "00-zz-00-01")]] {
        let mut all = vec![("authorization", bearer.as_str())];
        all.extend(headers);
        let r = gw.client.get_with(path, &all).await;
        let echo = r.echo();
        let id = r.header("x-request-id").unwrap().to_owned();
        let uuid = uuid::Uuid::parse_str(&id).expect("generated request id is a UUID");
        assert_eq!(uuid.get_version_num(), 7);
        assert_eq!(echo["headers"]["x-request-id"], id.as_str());
        let trace = r.header("traceparent").unwrap().to_owned();
        assert!(crm_gateway::phases::identify::valid_traceparent(&trace), "{trace}");
        assert_ne!(trace, TRACE);
        assert_eq!(echo["headers"]["traceparent"], trace.as_str());
    }

    // Requests the gateway refuses itself carry them too, in the header and the envelope.
    let r = gw.client.get_with(path, &[("x-request-id", "refused-1"), ("traceparent", TRACE)]).await;
    let body = r.expect_envelope(401);
    assert_eq!(body["request_id"], "refused-1");
    assert_eq!(r.header("traceparent"), Some(TRACE));
}
