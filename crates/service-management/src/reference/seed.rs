//! The original's reference values, inserted at start when missing (codes are the keys; names an
//! operator has edited are left alone).

use super::model::{follow_up_status, industry, level, source};
use crm_common::ApiResult;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

/// `(code, name_zh, name_id, description_zh, description_id)`.
type Entry = (&'static str, &'static str, &'static str, &'static str, &'static str);

const LEVELS: &[Entry] = &[
    (
        "2",
        "央企总部及行业龙头",
        "Kantor pusat BUMN dan pemimpin industri",
        "中央企业总部、行业领军企业",
        "Kantor pusat BUMN pusat dan pemimpin industri",
    ),
    (
        "3",
        "国企及上市公司",
        "BUMN dan perusahaan terbuka",
        "国有企业、上市公司",
        "Badan usaha milik negara dan perusahaan tercatat",
    ),
    (
        "4",
        "非上市品牌企业",
        "Perusahaan bermerek non-publik",
        "有品牌的非上市企业",
        "Perusahaan bermerek yang belum tercatat",
    ),
    ("5", "中小企业", "Usaha kecil dan menengah", "中小型企业", "Usaha kecil dan menengah"),
    ("6", "个人创业者", "Wirausaha perorangan", "个人及初创", "Perorangan dan usaha rintisan"),
];

const FOLLOW_UP_STATUSES: &[Entry] = &[
    ("1", "需求确认", "Klarifikasi kebutuhan", "明确客户需求", "Memperjelas kebutuhan pelanggan"),
    ("2", "价格谈判", "Negosiasi harga", "报价与议价", "Penawaran dan negosiasi harga"),
    ("3", "合同签署", "Penandatanganan kontrak", "签订服务合同", "Menandatangani kontrak layanan"),
    ("4", "服务执行", "Pelaksanaan layanan", "服务进行中", "Layanan sedang berjalan"),
    ("5", "服务完成", "Layanan selesai", "服务已完成", "Layanan telah selesai"),
];

const INDUSTRIES: &[Entry] = &[
    ("tech", "科技", "Teknologi", "", ""),
    ("finance", "金融", "Keuangan", "", ""),
    ("manufacturing", "制造业", "Manufaktur", "", ""),
    ("retail", "零售", "Ritel", "", ""),
    ("service", "服务业", "Jasa", "", ""),
    ("education", "教育", "Pendidikan", "", ""),
    ("healthcare", "医疗健康", "Kesehatan", "", ""),
    ("real_estate", "房地产", "Properti", "", ""),
    ("logistics", "物流", "Logistik", "", ""),
    ("other", "其他", "Lainnya", "", ""),
];

/// `(code, name, name_zh, name_id)`.
const SOURCES: &[(&str, &str, &str, &str)] = &[
    ("source_001", "Referral", "转介绍", "Rekomendasi"),
    ("source_002", "WeChat scan", "微信扫码", "Pindai WeChat"),
    ("source_003", "WeChat group", "微信群", "Grup WeChat"),
    ("source_004", "Website", "官网", "Situs web"),
    ("source_005", "Exhibition", "展会", "Pameran"),
    ("source_006", "Cold call", "电话开发", "Panggilan langsung"),
    ("source_007", "Channel agent", "渠道代理", "Agen saluran"),
    ("source_008", "Other", "其他", "Lainnya"),
];

fn text(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

macro_rules! seed_bilingual {
    ($db:expr, $module:ident, $entries:expr) => {
        for (i, (code, zh, id, dzh, did)) in $entries.iter().enumerate() {
            let exists = $module::Entity::find().filter($module::Column::Code.eq(*code)).count($db).await? > 0;
            if !exists {
                $module::Entity::insert($module::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    code: Set((*code).into()),
                    name_zh: Set((*zh).into()),
                    name_id: Set((*id).into()),
                    sort_order: Set(i as i32 + 1),
                    is_active: Set(true),
                    description_zh: Set(text(dzh)),
                    description_id: Set(text(did)),
                })
                .exec_without_returning($db)
                .await?;
            }
        }
    };
}

pub async fn run(db: &impl ConnectionTrait) -> ApiResult<()> {
    seed_bilingual!(db, level, LEVELS);
    seed_bilingual!(db, follow_up_status, FOLLOW_UP_STATUSES);
    seed_bilingual!(db, industry, INDUSTRIES);
    for (i, (code, name, zh, id)) in SOURCES.iter().enumerate() {
        if source::Entity::find().filter(source::Column::Code.eq(*code)).count(db).await? == 0 {
            source::Entity::insert(source::ActiveModel {
                id: Set(Uuid::now_v7()),
                code: Set((*code).into()),
                name: Set((*name).into()),
                name_zh: Set(Some((*zh).into())),
                name_id: Set(Some((*id).into())),
                description: Set(None),
                display_order: Set(i as i32 + 1),
                is_active: Set(true),
            })
            .exec_without_returning(db)
            .await?;
        }
    }
    Ok(())
}
