//! Payment stages and payments: who manages them, partial payments moving paid, remaining and
//! status forward, overpayment refused (also under concurrency), deletions refused once money
//! came in, other tenants' ids.

use crate::helpers::*;
use crate::stages::{all_404, processing_order};
use crm_common::db_test;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::str::FromStr;
use uuid::Uuid;

fn dec(v: &Value) -> Decimal {
    match v {
        Value::Number(n) => Decimal::from_str(&n.to_string()).unwrap(),
        Value::String(s) => Decimal::from_str(s).unwrap(),
        other => panic!("not an amount: {other}"),
    }
}

fn money(stage: &Value) -> (Decimal, Decimal, Decimal, String) {
    (
        dec(&stage["amount"]),
        dec(&stage["paid_amount"]),
        dec(&stage["remaining_amount"]),
        stage["status"].as_str().unwrap().to_owned(),
    )
}

fn d(n: i64) -> Decimal {
    Decimal::from(n)
}

db_test!(
    async fn partial_payments_move_a_stage_forward_and_never_overpay(backend) {
        let app = TestApp::spawn(backend).await;
        let s = processing_order(&app).await;
        let id = &s.order;
        let path = format!("/orders/{id}/payment-stages");

        // Finance and managers manage payment stages; sellers and operations read them.
        app.post(&path, Some(&s.seller), json!({"stage_name": "deposit", "amount": 100})).await.expect(403);
        app.post(&path, Some(&s.operator), json!({"stage_name": "deposit", "amount": 100})).await.expect(403);
        app.post(&path, Some(&s.finance), json!({"stage_name": "deposit", "amount": -1})).await.expect(400);
        app.post(&path, Some(&s.finance), json!({"stage_name": "deposit", "amount": 1, "stage_number": 0})).await.expect(400);
        app.post(&path, Some(&s.finance), json!({"stage_name": "deposit", "amount": 1, "payment_trigger": "never"}))
            .await
            .expect(400);
        let r = app
            .post(&path, Some(&s.finance), json!({"stage_name": "deposit", "amount": "100.00", "due_date": "2099-01-31"}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let deposit = id_of(r.data());
        assert_eq!(r.data()["stage_number"], 1);
        assert_eq!(r.data()["currency_code"], "CNY", "the order's currency");
        assert_eq!(r.data()["payment_trigger"], "manual");
        assert_eq!(money(r.data()), (d(100), d(0), d(100), "pending".into()));
        app.post(&path, Some(&s.finance), json!({"stage_name": "again", "amount": 5, "stage_number": 1})).await.expect(409);
        let r = app.post(&path, app.admin(), json!({"stage_name": "final", "amount": 50, "payment_trigger": "completion"})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let last = id_of(r.data());
        assert_eq!(r.data()["stage_number"], 2);
        let r = app.get(&path, Some(&s.seller)).await;
        r.expect(200);
        assert_eq!(r.data().as_array().unwrap().len(), 2);
        app.get(&format!("{path}/{deposit}"), Some(&s.operator)).await.expect(200);

        // Partial payments: paid and remaining follow, the status goes pending → partial → paid.
        let pay = format!("{path}/{deposit}/payments");
        app.post(&pay, Some(&s.seller), json!({"amount": 10})).await.expect(403);
        app.post(&pay, Some(&s.finance), json!({"amount": 0})).await.expect(400);
        app.post(&pay, Some(&s.finance), json!({"amount": -5})).await.expect(400);
        let r = app
            .post(&pay, Some(&s.finance), json!({"amount": "40.50", "payment_type": "deposit", "payment_method": "bank_transfer",
                "payment_date": "2026-12-01", "payer_name": "PT Maju Jaya"}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(dec(&r.data()["payment"]["amount"]), Decimal::from_str("40.5").unwrap());
        assert_eq!(money(&r.data()["payment_stage"]), (d(100), Decimal::from_str("40.5").unwrap(), Decimal::from_str("59.5").unwrap(), "partial".into()));
        let r = app.post(&pay, Some(&s.finance), json!({"amount": "59.51"})).await;
        r.expect(400);
        assert!(r.text.contains("amount"), "{}", r.text);
        // A partial stage cannot be set back by hand, nor paid by hand.
        let r = app.put(&format!("{path}/{deposit}"), Some(&s.finance), json!({"status": "pending"})).await;
        r.expect(409);
        assert!(r.text.contains("allowed: cancelled"), "{}", r.text);
        app.put(&format!("{path}/{deposit}"), Some(&s.finance), json!({"status": "paid"})).await.expect(409);
        app.put(&format!("{path}/{deposit}"), Some(&s.finance), json!({"amount": 40})).await.expect(400);
        let r = app.post(&pay, app.admin(), json!({"amount": "59.50"})).await;
        r.expect(200);
        let stage = &r.data()["payment_stage"];
        assert_eq!(money(stage), (d(100), d(100), d(0), "paid".into()));
        assert!(stage["actual_payment_date"].is_string());
        app.post(&pay, Some(&s.finance), json!({"amount": 1})).await.expect(409);
        app.put(&format!("{path}/{deposit}"), Some(&s.finance), json!({"status": "cancelled"})).await.expect(409);
        app.put(&format!("{path}/{deposit}"), Some(&s.finance), json!({"amount": 120})).await.expect(409);
        let r = app.get(&pay, Some(&s.seller)).await;
        r.expect(200);
        let amounts: Vec<Decimal> = r.data().as_array().unwrap().iter().map(|p| dec(&p["amount"])).collect();
        assert_eq!(amounts, [Decimal::from_str("40.5").unwrap(), Decimal::from_str("59.5").unwrap()]);

        // Money received: the stage and the order cannot be deleted; an untouched stage can.
        app.delete(&format!("{path}/{deposit}"), Some(&s.finance)).await.expect(409);
        let r = app.delete(&format!("/orders/{id}"), app.admin()).await;
        r.expect(409);
        assert!(r.text.contains("payments"), "{}", r.text);
        let r = app.put(&format!("{path}/{last}"), Some(&s.finance), json!({"amount": 80, "stage_name": "balance"})).await;
        r.expect(200);
        assert_eq!(money(r.data()), (d(80), d(0), d(80), "pending".into()));
        let r = app.put(&format!("{path}/{last}"), Some(&s.finance), json!({"status": "cancelled"})).await;
        r.expect(200);
        app.post(&format!("{path}/{last}/payments"), Some(&s.finance), json!({"amount": 1})).await.expect(409);
        app.delete(&format!("{path}/{last}"), Some(&s.seller)).await.expect(403);
        app.delete(&format!("{path}/{last}"), Some(&s.finance)).await.expect(200);
        app.get(&format!("{path}/{last}"), Some(&s.finance)).await.expect(404);

        // Another organization sees none of it.
        let (_, _, stranger) = app.org("PT Lain", "internal").await;
        all_404(
            &app,
            &stranger,
            vec![
                ("get", path.clone(), None),
                ("post", path.clone(), Some(json!({"stage_name": "mine", "amount": 1}))),
                ("get", format!("{path}/{deposit}"), None),
                ("put", format!("{path}/{deposit}"), Some(json!({"notes": "mine"}))),
                ("delete", format!("{path}/{deposit}"), None),
                ("get", pay.clone(), None),
                ("post", pay.clone(), Some(json!({"amount": 1}))),
            ],
        )
        .await;
        app.get(&format!("/orders/{}/payment-stages/{deposit}", Uuid::now_v7()), app.admin()).await.expect(404);
    }
);

db_test!(
    async fn concurrent_payments_never_exceed_the_stage(backend) {
        let app = TestApp::spawn(backend).await;
        let s = processing_order(&app).await;
        let path = format!("/orders/{}/payment-stages", s.order);
        let r = app.post(&path, Some(&s.finance), json!({"stage_name": "deposit", "amount": 100})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let pay = format!("{path}/{}/payments", id_of(r.data()));
        let runs = (0..10).map(|_| {
            let (app, pay, finance) = (&app, &pay, &s.finance);
            async move { app.post(pay, Some(finance), json!({"amount": 15})).await }
        });
        let answers = futures_util::future::join_all(runs).await;
        let accepted = answers.iter().filter(|r| r.status == 200).count();
        for r in &answers {
            assert!(matches!(r.status, 200 | 400), "{} {}", r.status, r.text);
        }
        assert_eq!(accepted, 6, "6 × 15 fit in 100, a seventh would overpay");
        let r = app.get(&path, Some(&s.finance)).await;
        assert_eq!(money(&r.data()[0]), (d(100), d(90), d(10), "partial".into()));
        let r = app.get(&pay, Some(&s.finance)).await;
        let sum: Decimal = r.data().as_array().unwrap().iter().map(|p| dec(&p["amount"])).sum();
        assert_eq!(sum, d(90), "the payments add up to the paid amount");
    }
);

db_test!(
    async fn a_payment_racing_the_order_delete_never_leaves_a_half_state(backend) {
        let app = TestApp::spawn(backend).await;
        let s = processing_order(&app).await;
        let customer = app.customer(&s.seller, "PT Balapan").await;
        for round in 0..6 {
            let r = app
                .post(
                    "/orders",
                    Some(&s.seller),
                    json!({"title": format!("race {round}"), "customer_id": customer,
                        "order_items": [{"product_name": "KITAS", "unit_price": 100}]}),
                )
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
            let order = id_of(r.data());
            let path = format!("/orders/{order}/payment-stages");
            let r = app.post(&path, Some(&s.finance), json!({"stage_name": "DP", "amount": 100})).await;
            assert_eq!(r.status, 200, "{}", r.text);
            let stage = id_of(r.data());
            let pay_path = format!("{path}/{stage}/payments");
            let delete_path = format!("/orders/{order}");
            let (pay, delete) = tokio::join!(
                app.post(&pay_path, Some(&s.finance), json!({"amount": 40})),
                app.delete(&delete_path, app.admin()),
            );
            match (pay.status, delete.status) {
                // The payment came first: the order stays, with its money.
                (200, 409) => {
                    let r = app.get(&path, Some(&s.finance)).await;
                    assert_eq!(dec(&r.data()[0]["paid_amount"]), Decimal::from(40), "round {round}");
                }
                // The delete came first: the payment found no order.
                (404, 200) => {
                    app.get(&delete_path, app.admin()).await.expect(404);
                }
                other => panic!("round {round}: payment {} / delete {}: {other:?}", pay.text, delete.text),
            }
        }
    }
);
