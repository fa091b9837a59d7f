-- US gross by certificate (marts.gross_by_certificate).
select
    coalesce(movie.certificate, 'Not rated') as certificate,
    count(*) as movies,
    count(movie.gross_usd) as movies_with_gross,
    sum(movie.gross_usd) as total_gross_usd,
    round(avg(cast(movie.gross_usd as double))) as avg_gross_usd
from current_movies as movie
group by coalesce(movie.certificate, 'Not rated')
order by total_gross_usd desc
