# Shared by bursting.sh and fanout-memory.sh (sourced): the partners' data and the report
# with recipients that both deliver.

# make_db N FILE: partners(id, email, folder) and 3 orders per partner on the reported
# day (2026-11-23), 1 the day before (not reported).
make_db() {
    sqlite3 "$2" "
create table partners(id text primary key, email text not null, folder text not null);
create table orders(partner_id text not null, day text not null, amount integer not null);
create index orders_partner on orders(partner_id, day);
with recursive k(i) as (select 1 union all select i + 1 from k where i < $1)
insert into partners select printf('p%05d', i), printf('orders+p%05d@partners.example', i),
    printf('partner-%05d', i) from k;
with recursive k(i) as (select 1 union all select i + 1 from k where i < $1),
    r(j) as (values (0), (1), (2))
insert into orders select printf('p%05d', i), '2026-11-23', i * 100 + j from k, r;
insert into orders select id, '2026-11-22', 999 from partners;"
}

# burst_report DESTINATIONS: the report, daily at 06:00, one run per partner (recipients
# from the partners table), each partner's orders bound to `:id`; DESTINATIONS is the
# TOML list of destination names, e.g. '"mail", "partner"'.
burst_report() {
    cat <<REPORT
[[reports]]
name = "Partner orders"
type = "ORDERS"
source = "db"
destinations = [$1]
file_name = "{type}_{recipient.id}_{from}.csv"
query = "SELECT partner_id, day, amount FROM orders WHERE partner_id = :id AND day >= :from_date AND day <= :to_date ORDER BY amount"
[reports.schedule]
frequency = "daily"
at = "06:00"
[reports.recipients]
key = "id"
query = "SELECT id, email, folder FROM partners ORDER BY id"
REPORT
}
