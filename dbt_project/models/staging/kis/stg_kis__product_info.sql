select
    stock_code,
    product_name,
    classification,
    product_type,
    risk_grade,
    first_registered_on,
    source
from {{ source('kis', 'product_info') }}
